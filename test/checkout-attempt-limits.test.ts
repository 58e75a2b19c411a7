import { describe, expect, it } from "vitest";
import { AttemptLimits } from "../workers/checkout/attempt-limits";
import { body, CARDS, checkout, confirm, readyCart, stockedSku } from "./checkout-fixtures";
import { expectProblem } from "./helpers";

// Checkout attempts and test-card confirmations are limited by the cart object itself (10 a
// minute per cart): exact worldwide, and only the holder of the cart's token can spend them.

describe("checkout attempt limits, kept by the cart", () => {
  it("answers 429 rate_limited with Retry-After after 10 confirmations on one cart, whatever the card", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(cart));
    // A declined card fails the checkout; confirming again answers its state. Either way each
    // attempt counts: a card tester cycles cards, not checkouts.
    for (let i = 0; i < 10; i++) expect((await confirm(cart, started.id, CARDS.declined)).status).toBe(200);
    const limited = await confirm(cart, started.id, CARDS.ok);
    const problem = await expectProblem(limited, 429, "rate_limited");
    expect(problem).toMatchObject({ retry_after: expect.any(Number) });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
  });

  it("counts attempts whatever their Idempotency-Key: fresh keys buy no fresh budget", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const first = crypto.randomUUID();
    expect((await checkout(cart, first)).status).toBe(201);
    // Each other key is refused (a checkout is in progress) but is still an attempt.
    for (let i = 0; i < 9; i++) expect((await checkout(cart, crypto.randomUUID())).status).toBe(409);
    await expectProblem(await checkout(cart, crypto.randomUUID()), 429, "rate_limited");
    await expectProblem(await checkout(cart, first), 429, "rate_limited");
  });

  it("does not let a stranger who knows the cart id spend the shopper's budget", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const stranger = { ...cart, headers: { ...cart.headers, "x-cart-token": "not-the-token" } };
    for (let i = 0; i < 15; i++) await expectProblem(await checkout(stranger), 404, "cart_not_found");
    const started = await checkout(cart);
    expect(started.status).toBe(201);
    const paid = await body(await confirm(cart, (await body(started)).id, CARDS.ok));
    expect(paid.status).toBe("completed");
  });

  it("counts each cart apart: one shopper at the limit leaves another's checkout alone", async () => {
    const sku = await stockedSku(5);
    const busy = await readyCart([{ sku, quantity: 1 }]);
    const key = crypto.randomUUID();
    for (let i = 0; i < 10; i++) expect((await checkout(busy, key)).status).toBeLessThan(300);
    await expectProblem(await checkout(busy, key), 429, "rate_limited");
    const other = await readyCart([{ sku, quantity: 1 }]);
    expect((await checkout(other)).status).toBe(201);
  });
});

describe("AttemptLimits", () => {
  it("allows the limit per window, then says how long until the window ends, then starts again", () => {
    let now = 1_000_000;
    const limits = new AttemptLimits(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) expect(limits.take("checkout")).toEqual({ ok: true });
    now += 15_500;
    expect(limits.take("checkout")).toEqual({ ok: false, retryAfterSeconds: 45 });
    // Another scope has its own window.
    expect(limits.take("confirm")).toEqual({ ok: true });
    now += 44_500;
    expect(limits.take("checkout")).toEqual({ ok: true });
  });
});
