import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, callJson, expectProblem } from "./helpers";
import { addLine, cartOf, newCart, seedPromotion, seedSku, setPrice, US_ADDRESS } from "./revenue-fixtures";

/** The tables an object's storage holds, without the runtime's own (`__…`). */
function storedTables(stub: DurableObjectStub): Promise<string[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((table) => table.name)
      .filter((name) => !name.startsWith("__")),
  );
}

describe("cart access", () => {
  it("creates a cart with an unguessable id and a secret token", async () => {
    const res = await callJson("/api/carts", "POST", { currency: "USD", email: "Shopper@Example.com" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; token: string; email: string; status: string };
    expect(body.id).toMatch(/^cart_[0-9a-z]{20}$/);
    expect(body.token.length).toBeGreaterThanOrEqual(40);
    expect(body.email).toBe("shopper@example.com");
    expect(body.status).toBe("open");
  });

  it("answers 404 cart_not_found for a missing, wrong or other cart's token, and for malformed ids", async () => {
    const mine = await newCart();
    const theirs = await newCart();
    await expectProblem(await call(`/api/carts/${mine.id}`), 404, "cart_not_found");
    await expectProblem(
      await call(`/api/carts/${mine.id}`, { headers: theirs.headers }),
      404,
      "cart_not_found",
    );
    await expectProblem(
      await call(`/api/carts/${mine.id}`, { headers: { "x-cart-token": "guess" } }),
      404,
      "cart_not_found",
    );
    await expectProblem(
      await call("/api/carts/not-a-cart", { headers: mine.headers }),
      404,
      "cart_not_found",
    );
    await expectProblem(await addLine({ ...mine, headers: theirs.headers }, "X", 1), 404, "cart_not_found");
    expect((await call(`/api/carts/${mine.id}`, { headers: mine.headers })).status).toBe(200);
  });

  it("answers a well-formed cart id nobody created with 404 and writes no storage for it", async () => {
    const mine = await newCart();
    const probed = `cart_${"0123456789abcdefghjk"}`;
    await expectProblem(await call(`/api/carts/${probed}`, { headers: mine.headers }), 404, "cart_not_found");
    await expectProblem(await addLine({ ...mine, id: probed }, "X", 1), 404, "cart_not_found");
    await expectProblem(
      await call(`/api/carts/${probed}/checkout`, {
        method: "POST",
        headers: { ...mine.headers, "idempotency-key": crypto.randomUUID() },
      }),
      404,
      "cart_not_found",
    );
    const stub = env.CART.get(env.CART.idFromName(probed));
    // A webhook or sweeper naming a checkout of a cart that does not exist finds none either.
    expect(await stub.reconcile("chk_0123456789abcdefghjk")).toMatchObject({ reason: "checkout_not_found" });
    expect(await storedTables(stub)).toEqual([]);
  });

  it("accepts the token from the cart cookie too", async () => {
    const cart = await newCart();
    const res = await call(`/api/carts/${cart.id}`, {
      headers: { cookie: `popcart_cart_token=${cart.token}` },
    });
    expect(res.status).toBe(200);
  });
});

describe("cart lines", () => {
  it("keeps one line per SKU: adding an existing SKU increments its quantity", async () => {
    const { sku } = await seedSku({ USD: 1500 });
    const cart = await newCart();
    await cartOf(await addLine(cart, sku, 2));
    const body = await cartOf(await addLine(cart, sku, 3));
    expect(body.lines).toHaveLength(1);
    expect(body.lines[0]?.quantity).toBe(5);
    expect(body.totals.subtotal.amount).toBe(7500);
  });

  it("serialises concurrent adds of the same SKU into one line holding their sum", async () => {
    const { sku } = await seedSku({ USD: 100 });
    const cart = await newCart();
    const results = await Promise.all(Array.from({ length: 8 }, () => addLine(cart, sku, 2)));
    expect(results.every((res) => res.status === 200)).toBe(true);
    const body = await cartOf(await call(`/api/carts/${cart.id}`, { headers: cart.headers }));
    expect(body.lines).toEqual([expect.objectContaining({ sku, quantity: 16 })]);
  });

  it("refuses quantities outside 1..99 and merges that would pass 99", async () => {
    const { sku } = await seedSku({ USD: 100 });
    const cart = await newCart();
    for (const quantity of [0, -1, 100, 1e12, 1.5, "2", null]) {
      await expectProblem(await addLine(cart, sku, quantity as number), 422, "validation_failed");
    }
    await cartOf(await addLine(cart, sku, 60));
    const problem = await expectProblem(await addLine(cart, sku, 40), 422, "quantity_limit_exceeded");
    expect(problem).toMatchObject({ sku, max: 99 });
  });

  it("refuses unknown SKUs, unpriced SKUs and archived products without a 500", async () => {
    const cart = await newCart();
    await expectProblem(await addLine(cart, "NO-SUCH-SKU", 1), 422, "unknown_sku");
    const eurOnly = await seedSku({ EUR: 900 });
    await expectProblem(await addLine(cart, eurOnly.sku, 1), 409, "sku_unavailable");
    const draft = await seedSku({ USD: 900 }, { status: "draft" });
    await expectProblem(await addLine(cart, draft.sku, 1), 409, "sku_unavailable");
  });

  it("rejects hostile bodies as validation problems, never a 500", async () => {
    const cart = await newCart();
    const bodies: unknown[] = [
      [],
      "null",
      { sku: 5, quantity: 1 },
      { sku: "A", quantity: 1, price: 1 },
      { sku: "x".repeat(500), quantity: 1 },
      { sku: "'; DROP TABLE lines; --", quantity: 1 },
      { sku: { $gt: "" }, quantity: 1 },
    ];
    for (const body of bodies) {
      const res = await callJson(`/api/carts/${cart.id}/lines`, "POST", body, cart.headers);
      expect(res.status).toBe(422);
    }
    const malformed = await call(`/api/carts/${cart.id}/lines`, {
      method: "POST",
      headers: { "content-type": "application/json", ...cart.headers },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
  });

  it("updates and removes lines; quantity 0 removes; unknown line ids are 404", async () => {
    const a = await seedSku({ USD: 250 });
    const b = await seedSku({ USD: 300 });
    const cart = await newCart();
    await addLine(cart, a.sku, 1);
    const body = await cartOf(await addLine(cart, b.sku, 1));
    const [lineA, lineB] = body.lines;
    const updated = await cartOf(
      await callJson(`/api/carts/${cart.id}/lines/${lineA?.id}`, "PATCH", { quantity: 4 }, cart.headers),
    );
    expect(updated.lines.find((line) => line.id === lineA?.id)?.quantity).toBe(4);
    const zeroed = await cartOf(
      await callJson(`/api/carts/${cart.id}/lines/${lineA?.id}`, "PATCH", { quantity: 0 }, cart.headers),
    );
    expect(zeroed.lines.map((line) => line.sku)).toEqual([b.sku]);
    const removed = await cartOf(
      await call(`/api/carts/${cart.id}/lines/${lineB?.id}`, { method: "DELETE", headers: cart.headers }),
    );
    expect(removed.lines).toEqual([]);
    await expectProblem(
      await call(`/api/carts/${cart.id}/lines/${lineB?.id}`, { method: "DELETE", headers: cart.headers }),
      404,
      "line_not_found",
    );
  });
});

describe("cart pricing", () => {
  it("adds the shipping state's sales tax on top of goods and shipping (tax-exclusive region)", async () => {
    const { sku } = await seedSku({ USD: 1000 });
    const cart = await newCart("USD");
    await addLine(cart, sku, 2);
    await callJson(
      `/api/carts/${cart.id}/shipping-address`,
      "PUT",
      { ...US_ADDRESS, region: "CA" },
      cart.headers,
    );
    const body = await cartOf(
      await callJson(`/api/carts/${cart.id}/shipping-method`, "PUT", { id: "us_standard" }, cart.headers),
    );
    // California's state base rate, 7.25 %: 2000 → 145; 599 → 43.4275 → 43 (per amount, half-up).
    expect(body.totals).toMatchObject({
      subtotal: { amount: 2000, currency: "USD" },
      shipping: { amount: 599 },
      tax: { amount: 188 },
      total: { amount: 2787 },
      tax_inclusive: false,
    });
  });

  it("reports the VAT contained in EU prices without adding it (tax-inclusive region)", async () => {
    const { sku } = await seedSku({ EUR: 1200 });
    const cart = await newCart("EUR");
    await addLine(cart, sku, 1);
    const body = await cartOf(
      await callJson(`/api/carts/${cart.id}/shipping-method`, "PUT", { id: "eu_standard" }, cart.headers),
    );
    // No address yet: estimated for the region's default country, Germany (19 %).
    // 1200 gross holds 192 VAT (net round(1008.40) = 1008); 499 shipping holds 80.
    expect(body.totals).toMatchObject({
      subtotal: { amount: 1200, currency: "EUR" },
      tax: { amount: 272 },
      total: { amount: 1699 },
      tax_inclusive: true,
    });
  });

  it("prices from D1 at read time and flags a price change until the line is updated", async () => {
    const { sku, variantId } = await seedSku({ USD: 1000 });
    const cart = await newCart();
    const added = await cartOf(await addLine(cart, sku, 1));
    expect(added.lines[0]?.price_changed).toBeNull();
    await setPrice(variantId, "USD", 1250);
    const after = await cartOf(await call(`/api/carts/${cart.id}`, { headers: cart.headers }));
    expect(after.lines[0]?.unit_price.amount).toBe(1250);
    expect(after.lines[0]?.price_changed).toMatchObject({
      previous: { amount: 1000 },
      current: { amount: 1250 },
    });
    expect(after.totals.subtotal.amount).toBe(1250);
    const acknowledged = await cartOf(
      await callJson(
        `/api/carts/${cart.id}/lines/${after.lines[0]?.id}`,
        "PATCH",
        { quantity: 1 },
        cart.headers,
      ),
    );
    expect(acknowledged.lines[0]?.price_changed).toBeNull();
  });

  it("only accepts addresses in the cart's region and offered shipping methods", async () => {
    const cart = await newCart("USD");
    await expectProblem(
      await callJson(
        `/api/carts/${cart.id}/shipping-address`,
        "PUT",
        { ...US_ADDRESS, country: "FR" },
        cart.headers,
      ),
      422,
      "address_outside_region",
    );
    await expectProblem(
      await callJson(
        `/api/carts/${cart.id}/shipping-address`,
        "PUT",
        { ...US_ADDRESS, zip: "1" },
        cart.headers,
      ),
      422,
      "validation_failed",
    );
    expect(
      (await callJson(`/api/carts/${cart.id}/shipping-address`, "PUT", US_ADDRESS, cart.headers)).status,
    ).toBe(200);
    await expectProblem(
      await callJson(`/api/carts/${cart.id}/shipping-method`, "PUT", { id: "eu_standard" }, cart.headers),
      422,
      "unknown_shipping_method",
    );
  });
});

describe("cart promotions", () => {
  it("takes a percentage off the subtotal and spreads it over lines", async () => {
    const a = await seedSku({ USD: 1000 });
    const b = await seedSku({ USD: 3000 });
    const { code } = await seedPromotion({ type: "percentage", percentage_bp: 1000 });
    const cart = await newCart();
    await addLine(cart, a.sku, 1);
    await addLine(cart, b.sku, 1);
    await callJson(`/api/carts/${cart.id}/shipping-address`, "PUT", US_ADDRESS, cart.headers);
    const body = await cartOf(
      await callJson(`/api/carts/${cart.id}/promotions`, "POST", { code: code.toLowerCase() }, cart.headers),
    );
    expect(body.promotions).toEqual([
      { code, applied: true, reason: null, discount: { amount: 400, currency: "USD" } },
    ]);
    expect(body.totals.discount.amount).toBe(400);
    // Illinois state base rate on the discounted goods: (4000 − 400) × 6.25 % = 225.
    expect(body.totals.tax.amount).toBe(225);
    expect(body.totals.total.amount).toBe(3825);
  });

  it("keeps a code whose minimum subtotal is not met attached but unapplied", async () => {
    const { sku } = await seedSku({ USD: 1000 });
    const { code } = await seedPromotion({
      type: "fixed_amount",
      amount_off: { amount: 500, currency: "USD" },
      minimum_subtotal: { amount: 3000, currency: "USD" },
    });
    const cart = await newCart();
    await addLine(cart, sku, 1);
    const before = await cartOf(
      await callJson(`/api/carts/${cart.id}/promotions`, "POST", { code }, cart.headers),
    );
    expect(before.promotions[0]).toMatchObject({ applied: false, reason: "minimum_subtotal_not_met" });
    const after = await cartOf(await addLine(cart, sku, 2));
    expect(after.promotions[0]).toMatchObject({ applied: true, discount: { amount: 500 } });
    expect(after.totals.discount.amount).toBe(500);
  });

  it("refuses unknown, expired, not-yet-started and wrong-currency codes", async () => {
    const cart = await newCart("USD");
    const apply = (code: string) =>
      callJson(`/api/carts/${cart.id}/promotions`, "POST", { code }, cart.headers);
    expect(await expectProblem(await apply("NOPE-NOPE"), 422, "promotion_invalid")).toMatchObject({
      why: "unknown_code",
    });
    const expired = await seedPromotion({
      type: "percentage",
      percentage_bp: 500,
      starts_at: "2020-01-01T00:00:00Z",
      ends_at: "2020-02-01T00:00:00Z",
    });
    expect(await expectProblem(await apply(expired.code), 422, "promotion_invalid")).toMatchObject({
      why: "expired",
    });
    const future = await seedPromotion({
      type: "percentage",
      percentage_bp: 500,
      starts_at: "2099-01-01T00:00:00Z",
    });
    expect(await expectProblem(await apply(future.code), 422, "promotion_invalid")).toMatchObject({
      why: "not_started",
    });
    const euro = await seedPromotion({ type: "fixed_amount", amount_off: { amount: 500, currency: "EUR" } });
    expect(await expectProblem(await apply(euro.code), 422, "promotion_invalid")).toMatchObject({
      why: "currency_mismatch",
    });
  });

  it("removes an applied code and answers 404 for a code not on the cart", async () => {
    const { code } = await seedPromotion({ type: "percentage", percentage_bp: 500 });
    const cart = await newCart();
    await callJson(`/api/carts/${cart.id}/promotions`, "POST", { code }, cart.headers);
    const removed = await cartOf(
      await call(`/api/carts/${cart.id}/promotions/${code}`, { method: "DELETE", headers: cart.headers }),
    );
    expect(removed.promotions).toEqual([]);
    await expectProblem(
      await call(`/api/carts/${cart.id}/promotions/${code}`, { method: "DELETE", headers: cart.headers }),
      404,
      "promotion_not_on_cart",
    );
  });
});

describe("cart expiry", () => {
  it("deletes an idle cart when its alarm fires, but keeps a recently used one", async () => {
    const { sku } = await seedSku({ USD: 100 });
    const cart = await newCart();
    await addLine(cart, sku, 1);
    const stub = env.CART.get(env.CART.idFromName(cart.id));
    // Fired early (activity pushed the deadline): the cart survives and the alarm re-arms.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await call(`/api/carts/${cart.id}`, { headers: cart.headers })).status).toBe(200);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE cart SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await expectProblem(
      await call(`/api/carts/${cart.id}`, { headers: cart.headers }),
      404,
      "cart_not_found",
    );
    // Nothing is left behind: no rows and no tables (the next write would make them again).
    expect(await storedTables(stub)).toEqual([]);
  });
});
