import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { PROVIDER_POLL_INTERVAL_MS, ProviderPollThrottle } from "../workers/checkout/poll-throttle";
import { createApp } from "../workers/edge/app";
import { configureSale, getInventory, setStock } from "../workers/inventory/service";
import { stripeEvent } from "./fakes/stripe-events";
import { callJson } from "./helpers";
import { newCart, seedSku, type TestCart, US_ADDRESS } from "./revenue-fixtures";

export const CARDS = {
  ok: "4242424242424242",
  declined: "4000000000000002",
  threeDs: "4000000000003220",
} as const;

/** A SKU priced in USD with `stock` units on hand; `flash` makes it reserve at add-to-cart. */
export async function stockedSku(
  stock: number,
  options: {
    price?: number;
    currency?: "USD" | "EUR";
    flash?: boolean;
    ttlSeconds?: number;
    weightGrams?: number;
  } = {},
): Promise<string> {
  const { sku } = await seedSku(
    { [options.currency ?? "USD"]: options.price ?? 1000 },
    options.weightGrams === undefined ? {} : { weightGrams: options.weightGrams },
  );
  const stocked = await setStock(env, { sku, onHand: stock, reason: "test stock", key: `stock:${sku}` });
  if (!stocked.ok) throw new Error(`could not stock ${sku}`);
  if (options.flash) {
    await configureSale(env, {
      sku,
      policy: { reserve_on_add_to_cart: true, reservation_ttl_seconds: options.ttlSeconds ?? 600 },
    });
  }
  return sku;
}

/** Exact counters for a SKU across shards. */
export async function stockOf(sku: string) {
  const view = await getInventory(env, sku);
  return { available: view.available, reserved: view.reserved, sold: view.sold };
}

/** A cart with the given lines, an email, a US address and standard shipping: ready to check out. */
export async function readyCart(
  lines: { sku: string; quantity: number }[],
  options: { email?: string; promotion?: string } = {},
): Promise<TestCart> {
  const cart = await newCart("USD");
  for (const line of lines) {
    const res = await callJson(`/api/carts/${cart.id}/lines`, "POST", line, cart.headers);
    if (res.status !== 200) throw new Error(`add line failed: ${res.status} ${await res.text()}`);
  }
  const email = options.email ?? `buyer-${crypto.randomUUID()}@example.com`;
  await callJson(`/api/carts/${cart.id}/email`, "PUT", { email }, cart.headers);
  await callJson(`/api/carts/${cart.id}/shipping-address`, "PUT", US_ADDRESS, cart.headers);
  await callJson(`/api/carts/${cart.id}/shipping-method`, "PUT", { id: "us_standard" }, cart.headers);
  if (options.promotion) {
    const res = await callJson(
      `/api/carts/${cart.id}/promotions`,
      "POST",
      { code: options.promotion },
      cart.headers,
    );
    if (res.status !== 200) throw new Error(`promotion failed: ${res.status} ${await res.text()}`);
  }
  return cart;
}

export interface CheckoutBody {
  id: string;
  cart_id: string;
  status: string;
  payment: { provider: string; payment_id: string; client_secret: string | null } | null;
  totals: { total: { amount: number; currency: string } };
  order: { id: string; number: string; lookup_token: string } | null;
  failure: { code: string; message: string } | null;
}

export function checkout(cart: TestCart, key: string = crypto.randomUUID()) {
  return callJson(`/api/carts/${cart.id}/checkout`, "POST", {}, { ...cart.headers, "idempotency-key": key });
}

export function confirm(cart: TestCart, checkoutId: string, card: string) {
  return callJson(`/api/checkouts/${checkoutId}/confirm`, "POST", { card_number: card }, cart.headers);
}

export async function body<T = CheckoutBody>(res: Response, status = [200, 201]): Promise<T> {
  if (!status.includes(res.status)) throw new Error(`unexpected ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export async function ordersFor(checkoutId: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, flags, refunded_total FROM orders WHERE checkout_id = ?1",
  )
    .bind(checkoutId)
    .all<{ id: string; flags: string; refunded_total: number }>();
  return results;
}

const WEBHOOK_SECRET = "whsec_revenue_tests";
const webhookApp = createApp();
const cryptoProvider = Stripe.createSubtleCryptoProvider();

/**
 * Delivers a Stripe-signed `payment_intent.*` event for a checkout's payment through the real
 * webhook route (signature verification, event de-duplication, then `applyPaymentOutcome`).
 */
export async function deliverWebhook(
  checkoutBody: Pick<CheckoutBody, "id" | "cart_id" | "payment" | "totals">,
  type: "payment_intent.succeeded" | "payment_intent.payment_failed" | "payment_intent.canceled",
  eventId = `evt_${crypto.randomUUID().replaceAll("-", "")}`,
  /** Extra bindings for the webhook route (e.g. a Stripe key, so refunds go to the fake). */
  bindings: Partial<Env> = {},
) {
  const status = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "requires_payment_method",
    "payment_intent.canceled": "canceled",
  }[type];
  const event = stripeEvent(
    type,
    {
      id: checkoutBody.payment?.payment_id,
      object: "payment_intent",
      amount: checkoutBody.totals.total.amount,
      currency: checkoutBody.totals.total.currency.toLowerCase(),
      status,
      metadata: { checkout_id: checkoutBody.id, cart_id: checkoutBody.cart_id },
      last_payment_error:
        type === "payment_intent.payment_failed" ? { message: "Your card was declined." } : null,
    },
    eventId,
  );
  const payload = JSON.stringify(event);
  const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: WEBHOOK_SECRET,
    cryptoProvider,
  });
  return webhookApp.request(
    "/webhooks/stripe",
    {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
    },
    { ...env, ...bindings, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
  );
}

/** Gives this cart's object a Stripe secret key, as production would via a secret. */
export async function withStripeKey(cart: TestCart, secretKey: string): Promise<TestCart> {
  await runInDurableObject(env.CART.get(env.CART.idFromName(cart.id)), (instance) => {
    const object = instance as unknown as { env: Env };
    object.env = { ...object.env, STRIPE_SECRET_KEY: secretKey };
  });
  return cart;
}

/** A ready cart (see `readyCart`) whose object pays through Stripe with `secretKey`. */
export async function readyStripeCart(secretKey: string, lines: { sku: string; quantity: number }[]) {
  return withStripeKey(await readyCart(lines), secretKey);
}

/**
 * Puts the cart object's provider-poll throttle on a clock the test moves: `advance(ms)`.
 * Status reads within `PROVIDER_POLL_INTERVAL_MS` of a poll reuse its stored answer.
 */
export async function pollClock(cart: TestCart): Promise<{ advance(ms: number): void }> {
  let now = Date.now();
  await runInDurableObject(env.CART.get(env.CART.idFromName(cart.id)), (instance) => {
    const object = instance as unknown as { providerPolls: ProviderPollThrottle };
    object.providerPolls = new ProviderPollThrottle(PROVIDER_POLL_INTERVAL_MS, () => now);
  });
  return {
    advance(ms) {
      now += ms;
    },
  };
}
