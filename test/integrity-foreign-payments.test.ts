import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { migrateCartStorage } from "../durable-objects/cart-storage";
import { newId } from "../workers/lib/ids";
import {
  body,
  type CheckoutBody,
  checkout,
  deliverWebhook,
  ordersFor,
  readyStripeCart,
  stockedSku,
} from "./checkout-fixtures";
import { useFakeStripe } from "./fakes/fake-stripe";
import { call } from "./helpers";

const stripe = useFakeStripe();

/** A PaymentIntent that some other integration on the same Stripe account created and got paid. */
function foreignIntent(metadata: { checkout_id: string; cart_id: string }): CheckoutBody {
  const intent = stripe().intents;
  const id = `pi_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
  intent.set(id, {
    id,
    object: "payment_intent",
    amount: 1999,
    currency: "usd",
    status: "succeeded",
    client_secret: `${id}_secret_x`,
    metadata,
    automatic_payment_methods: null,
    receipt_email: null,
    last_payment_error: null,
    next_action: null,
    latest_charge: `ch_${id}`,
    amount_refunded: 0,
    created: Math.floor(Date.now() / 1000),
    livemode: false,
  });
  return {
    id: metadata.checkout_id,
    cart_id: metadata.cart_id,
    status: "completed",
    payment: { provider: "stripe", payment_id: id, client_secret: null },
    totals: { total: { amount: 1999, currency: "USD" } },
    order: null,
    failure: null,
  };
}

const refunds = () => stripe().requests.filter((request) => request.path === "/v1/refunds");

describe("the Stripe webhook acts only on payments Popcart created", () => {
  it("ignores a foreign succeeded payment whose metadata names no checkout of this shop", async () => {
    const foreign = foreignIntent({ checkout_id: newId("chk"), cart_id: newId("cart") });
    const delivered = await deliverWebhook(foreign, "payment_intent.succeeded", undefined, {
      STRIPE_SECRET_KEY: stripe().secretKey,
    });
    expect(delivered.status).toBe(200);
    expect(refunds()).toHaveLength(0);
  });

  it("ignores a foreign payment that names a real checkout but is not its payment", async () => {
    const sku = await stockedSku(5, { price: 1999 });
    const cart = await readyStripeCart(stripe().secretKey, [{ sku, quantity: 1 }]);
    const ours = await body(await checkout(cart));
    const foreign = foreignIntent({ checkout_id: ours.id, cart_id: cart.id });
    const delivered = await deliverWebhook(foreign, "payment_intent.succeeded", undefined, {
      STRIPE_SECRET_KEY: stripe().secretKey,
    });
    expect(delivered.status).toBe(200);
    expect(refunds()).toHaveLength(0);
    expect(await ordersFor(ours.id)).toHaveLength(0);
    const status = await body(await call(`/api/checkouts/${ours.id}`, { headers: cart.headers }));
    expect(status.status).toBe("awaiting_payment");
  });

  it("still refunds its own payment whose cart is gone", async () => {
    const sku = await stockedSku(5, { price: 1999 });
    const cart = await readyStripeCart(stripe().secretKey, [{ sku, quantity: 1 }]);
    const ours = await body(await checkout(cart));
    await runInDurableObject(env.CART.get(env.CART.idFromName(cart.id)), async (_o, state) => {
      // What the cart's inactivity expiry does: everything goes, an empty schema stays.
      await state.storage.deleteAll();
      migrateCartStorage(state.storage);
    });
    stripe().settle(ours.payment?.payment_id ?? "", "succeeded");
    const delivered = await deliverWebhook(ours, "payment_intent.succeeded", undefined, {
      STRIPE_SECRET_KEY: stripe().secretKey,
    });
    expect(delivered.status).toBe(200);
    expect(refunds()).toEqual([
      expect.objectContaining({
        params: expect.objectContaining({ payment_intent: ours.payment?.payment_id }),
      }),
    ]);
  });
});
