import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setStock } from "../workers/inventory/service";
import { body, checkout, deliverWebhook } from "./checkout-fixtures";
import { FakeStripe, routeStripeTo } from "./fakes/fake-stripe";
import { call, callJson, expectProblem } from "./helpers";
import {
  addressIn,
  admin,
  cartWith,
  createRegion,
  ok,
  setAddress,
  setMethod,
  suffix,
} from "./regions-fixtures";
import { seedSku, type TestCart } from "./revenue-fixtures";

let fake: FakeStripe;

beforeEach(() => {
  fake = new FakeStripe();
  routeStripeTo(fake);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/** Gives this cart's object a Stripe secret key, as production would via a secret. */
async function withStripe(cart: TestCart): Promise<TestCart> {
  await runInDurableObject(env.CART.get(env.CART.idFromName(cart.id)), (instance) => {
    const object = instance as unknown as { env: Env };
    object.env = { ...object.env, STRIPE_SECRET_KEY: fake.secretKey };
  });
  return cart;
}

/** A USD region taxed by Stripe Tax, shipping to `country`, with one flat option; returns the option id. */
async function stripeTaxedRegion(country: string): Promise<string> {
  const code = await createRegion({
    code: "STAX",
    name: "Stripe-taxed",
    currency: "USD",
    tax_inclusive: false,
    tax_provider: "stripe",
    countries: [country],
    default_country: country,
    position: 70,
  });
  // The tables say 5 %: the cart shows that estimate until Stripe computes the real tax at checkout.
  await ok(await admin(`/${code}/tax-rates`, "PUT", { country, rate_bp: 500 }));
  const id = `stax_${suffix().toLowerCase()}`;
  await ok(
    await admin(`/${code}/shipping-options`, "POST", {
      id,
      name: "Ground",
      price: { type: "flat", amount: 1000 },
      min_days: 2,
      max_days: 5,
    }),
    201,
  );
  return id;
}

async function readyStripeCart(country: string, price: number): Promise<{ cart: TestCart; sku: string }> {
  const method = await stripeTaxedRegion(country);
  const { sku } = await seedSku({ USD: price });
  await setStock(env, { sku, onHand: 5, reason: "test stock", key: `stock:${sku}` });
  const cart = await withStripe(await cartWith("USD", [{ sku, quantity: 1 }]));
  await callJson(`/api/carts/${cart.id}/email`, "PUT", { email: "tax@example.com" }, cart.headers);
  await ok(await setAddress(cart, addressIn(country)));
  await ok(await setMethod(cart, method));
  return { cart, sku };
}

describe("Stripe Tax provider (fake Stripe API, real SDK)", () => {
  it("computes tax at checkout with tax.calculations.create and the order keeps Stripe's rates", async () => {
    fake.taxRates.MX = "16.0";
    const { cart } = await readyStripeCart("MX", 10_000);
    const shown = await ok(await call(`/api/carts/${cart.id}`, { headers: cart.headers }));
    // The estimate from the tables: 5 % of 10000 and of 1000.
    expect(shown.totals.tax.amount).toBe(550);
    const started = await body(await checkout(cart));
    // Stripe's 16 %: 1600 on the goods, 160 on shipping, added on top.
    expect(started.totals.total).toEqual({ amount: 12_760, currency: "USD" });
    expect(fake.taxCalculations).toHaveLength(1);
    expect(fake.taxCalculations[0]?.params).toMatchObject({
      currency: "usd",
      customer_details: { address: { country: "MX" }, address_source: "shipping" },
      line_items: { 0: { amount: "10000", quantity: "1", tax_behavior: "exclusive" } },
      shipping_cost: { amount: "1000", tax_behavior: "exclusive" },
    });
    const intent = fake.requests.find((request) => request.path === "/v1/payment_intents");
    expect(intent?.params.amount).toBe("12760");
    const paid = await deliverWebhook(started, "payment_intent.succeeded");
    expect(paid.status).toBe(200);
    const done = await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }));
    const order = await ok<{
      tax_lines: {
        rate_bp: number;
        amount: { amount: number };
        provider: string;
        provider_reference: string;
      }[];
    }>(await call(`/api/orders/${done.order?.id}?token=${done.order?.lookup_token}`));
    expect(order.tax_lines).toEqual([
      expect.objectContaining({
        rate_bp: 1600,
        amount: { amount: 1600, currency: "USD" },
        provider: "stripe",
        provider_reference: fake.taxCalculations[0]?.id,
      }),
      expect.objectContaining({
        rate_bp: 1600,
        amount: { amount: 160, currency: "USD" },
        provider: "stripe",
      }),
    ]);
  });

  it("refuses the checkout with a retryable 503 when Stripe Tax does not answer, holding nothing", async () => {
    const { cart } = await readyStripeCart("CO", 5_000);
    fake.failNext = 5;
    const res = await checkout(cart);
    await expectProblem(res, 503, "tax_provider_unavailable");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(fake.requests.filter((request) => request.path === "/v1/payment_intents")).toHaveLength(0);
    const view = await ok<{ status: string }>(await call(`/api/carts/${cart.id}`, { headers: cart.headers }));
    expect(view.status).toBe("open");
    fake.failNext = 0;
    expect((await checkout(cart)).status).toBe(201);
  });

  it("falls back to the tables when no Stripe key is configured", async () => {
    const method = await stripeTaxedRegion("PE");
    const { sku } = await seedSku({ USD: 10_000 });
    await setStock(env, { sku, onHand: 5, reason: "test stock", key: `stock:${sku}` });
    const cart = await cartWith("USD", [{ sku, quantity: 1 }]);
    await callJson(`/api/carts/${cart.id}/email`, "PUT", { email: "tables@example.com" }, cart.headers);
    await ok(await setAddress(cart, addressIn("PE")));
    await ok(await setMethod(cart, method));
    const started = await body(await checkout(cart));
    expect(started.totals.total.amount).toBe(11_550);
    expect(fake.taxCalculations).toHaveLength(0);
  });
});
