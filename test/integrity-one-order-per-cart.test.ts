import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  body,
  type CheckoutBody,
  checkout,
  deliverWebhook,
  ordersFor,
  readyCart,
  stockedSku,
  withStripeKey,
} from "./checkout-fixtures";
import { useFakeStripe } from "./fakes/fake-stripe";
import { call, expectProblem } from "./helpers";
import type { TestCart } from "./revenue-fixtures";

const cartObject = (cartId: string) => env.CART.get(env.CART.idFromName(cartId));

const stripe = useFakeStripe();

const withStripe = (cart: TestCart) => withStripeKey(cart, stripe().secretKey);

/** Ends the payment window of every open checkout of the cart, as its alarm would. */
async function endPaymentWindow(cart: TestCart) {
  await runInDurableObject(cartObject(cart.id), (_instance, state) => {
    state.storage.sql.exec(
      "UPDATE checkouts SET expires_at = ? WHERE status NOT IN ('completed', 'failed', 'expired')",
      Date.now() - 1,
    );
  });
  await runDurableObjectAlarm(cartObject(cart.id));
}

const status = async (cart: TestCart, id: string) =>
  body<CheckoutBody>(await call(`/api/checkouts/${id}`, { headers: cart.headers }));

describe("one cart never becomes two orders", () => {
  it("keeps the cart locked while a payment is still processing at the end of its window", async () => {
    const sku = await stockedSku(5);
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]));
    const first = await body(await checkout(cart));
    stripe().settle(first.payment?.payment_id ?? "", "processing");
    await endPaymentWindow(cart);
    expect((await status(cart, first.id)).status).toBe("awaiting_payment");
    await expectProblem(await checkout(cart), 409, "checkout_in_progress");

    stripe().settle(first.payment?.payment_id ?? "", "succeeded");
    expect((await deliverWebhook(first, "payment_intent.succeeded")).status).toBe(200);
    expect((await status(cart, first.id)).status).toBe("completed");
    expect(await ordersFor(first.id)).toHaveLength(1);
  });

  it("refunds a late payment of an earlier checkout once the cart became an order", async () => {
    const sku = await stockedSku(5);
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]));
    const first = await body(await checkout(cart));
    await endPaymentWindow(cart);
    expect((await status(cart, first.id)).status).toBe("expired");
    const second = await body(await checkout(cart));
    stripe().settle(second.payment?.payment_id ?? "", "succeeded");
    expect((await deliverWebhook(second, "payment_intent.succeeded")).status).toBe(200);
    expect((await status(cart, second.id)).status).toBe("completed");

    // The first attempt's payment goes through after all (a delayed method, a race at Stripe).
    stripe().settle(first.payment?.payment_id ?? "", "succeeded");
    expect((await deliverWebhook(first, "payment_intent.succeeded")).status).toBe(200);
    expect(await ordersFor(first.id)).toHaveLength(0);
    expect(await ordersFor(second.id)).toHaveLength(1);
    expect((await status(cart, first.id)).failure?.code).toBe("duplicate_payment_refunded");
    const refund = stripe().requests.find((request) => request.path === "/v1/refunds");
    expect(refund).toMatchObject({
      params: { payment_intent: first.payment?.payment_id },
      idempotencyKey: `popcart:${first.id}:refund:duplicate`,
    });
  });
});
