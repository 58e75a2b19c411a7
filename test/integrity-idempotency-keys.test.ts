import { describe, expect, it } from "vitest";
import { body, CARDS, checkout, confirm, readyCart, stockedSku } from "./checkout-fixtures";
import { ADMIN, callJson, expectProblem } from "./helpers";
import { randomSku, stockSku } from "./inventory-fixtures";

const keyed = (key: string) => ({ ...ADMIN, "idempotency-key": key });

describe("an Idempotency-Key sent again with a different request is refused", () => {
  it("checkout: the same key on a cart that changed since answers 422", async () => {
    const sku = await stockedSku(10);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const key = crypto.randomUUID();
    const first = await body(await checkout(cart, key));
    expect((await body(await confirm(cart, first.id, CARDS.declined))).status).toBe("failed");
    // Unchanged cart: the key replays its checkout.
    expect((await body(await checkout(cart, key))).id).toBe(first.id);
    const view = (await (await callJson(`/api/carts/${cart.id}`, "GET", undefined, cart.headers)).json()) as {
      lines: { id: string }[];
    };
    const line = view.lines[0]?.id ?? "";
    expect(
      (await callJson(`/api/carts/${cart.id}/lines/${line}`, "PATCH", { quantity: 3 }, cart.headers)).status,
    ).toBe(200);
    await expectProblem(await checkout(cart, key), 422, "idempotency_key_reused");
    expect((await checkout(cart, crypto.randomUUID())).status).toBe(201);
  });

  it("refunds: the same key with another amount, or none, answers 422", async () => {
    const sku = await stockedSku(10, { price: 2000 });
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(cart));
    const paid = await body(await confirm(cart, started.id, CARDS.ok));
    const orderId = paid.order?.id ?? "";
    const refund = (amount?: number) =>
      callJson(
        `/admin/api/orders/${orderId}/refunds`,
        "POST",
        amount === undefined ? {} : { amount: { amount, currency: "USD" } },
        keyed("refund-key-1"),
      );
    expect((await refund(100)).status).toBe(201);
    expect((await refund(100)).status).toBe(200);
    await expectProblem(await refund(200), 422, "idempotency_key_reused");
    await expectProblem(await refund(), 422, "idempotency_key_reused");
  });

  it("inventory admin writes: set, adjust and hold refuse a reused key with another body", async () => {
    const sku = randomSku();
    await stockSku(sku, 10);
    const path = `/admin/api/inventory/${sku}`;
    expect((await callJson(path, "PUT", { on_hand: 20 }, keyed("set-1"))).status).toBe(200);
    expect((await callJson(path, "PUT", { on_hand: 20 }, keyed("set-1"))).status).toBe(200);
    await expectProblem(
      await callJson(path, "PUT", { on_hand: 30 }, keyed("set-1")),
      422,
      "idempotency_key_reused",
    );

    const adjust = (delta: number) =>
      callJson(`${path}/adjustments`, "POST", { delta, reason: "recount" }, keyed("adjust-1"));
    expect((await adjust(2)).status).toBe(201);
    await expectProblem(await adjust(5), 422, "idempotency_key_reused");

    const hold = (quantity: number) =>
      callJson(`${path}/reservations`, "POST", { holder: "ops", quantity }, keyed("hold-1"));
    expect((await hold(1)).status).toBe(201);
    await expectProblem(await hold(4), 422, "idempotency_key_reused");
    const view = (await (await callJson(path, "GET", undefined, ADMIN)).json()) as {
      on_hand: number;
      reserved: number;
    };
    expect(view).toMatchObject({ on_hand: 22, reserved: 1 });
  });
});
