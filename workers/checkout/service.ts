import type { CartObject } from "../../durable-objects/cart";
import type { CartRefusal } from "../cart/refusals";
import { cartStub, cartTokenHash } from "../cart/service";
import { BoundedMap } from "../lib/bounded-map";
import { openCircuit } from "../lib/circuit-breaker";
import { databaseDown, databaseDownError } from "../lib/d1-guard";
import { log } from "../lib/logging";
import { paymentConfiguration } from "../payments/configuration";
import {
  type PaymentOutcome,
  type PaymentOutcomeHandler,
  paymentIdempotencyKey,
  paymentProviderFor,
} from "../payments/provider";
import type { Admission } from "../waiting-room/admission";
import type { CheckoutResult } from "./saga";

const CHECKOUT_ID = /^chk_[0-9a-z]{20}$/;

const notFound = (): CartRefusal => ({ ok: false, reason: "checkout_not_found" });

/**
 * Which cart a checkout belongs to never changes, so the isolate remembers the latest few
 * thousand: a confirm or status poll right after its checkout skips the D1 lookup. Bounded,
 * so an isolate's memory does not grow with traffic; a miss just asks D1.
 */
const checkoutCarts = new BoundedMap<string, string>(4096);

/**
 * Starts or replays the checkout of a cart under the client's idempotency key. When this
 * isolate already knows D1 is down (its `d1` circuit is open), it answers
 * `database_unavailable` at once instead of waking the cart object to find out again.
 */
export async function startCheckout(
  env: Env,
  input: { cartId: string; token: string | undefined; idempotencyKey: string; admission: Admission },
): Promise<CheckoutResult> {
  const stub = cartStub(env, input.cartId);
  if (!stub || !input.token) return { ok: false, reason: "cart_not_found" };
  const payments = paymentConfiguration(env);
  if (!payments.ok) {
    log("error", "payment_provider_not_configured", { reason: payments.reason });
    return {
      ok: false,
      reason: "payment_provider_not_configured",
      detail: "Payments are not configured on this shop; no checkout can start.",
    };
  }
  const d1Down = openCircuit("d1");
  if (d1Down) {
    return databaseDown(
      d1Down,
      "The database is temporarily unavailable; retry with the same Idempotency-Key.",
    );
  }
  const result = await stub.checkout(await cartTokenHash(input.token), input.idempotencyKey, input.admission);
  if (result.ok) checkoutCarts.set(result.checkout.id, result.checkout.cart_id);
  return result;
}

async function checkoutCart(env: Env, checkoutId: string): Promise<DurableObjectStub<CartObject> | null> {
  if (!CHECKOUT_ID.test(checkoutId)) return null;
  const known = checkoutCarts.get(checkoutId);
  if (known) return cartStub(env, known);
  const row = await env.DB.prepare("SELECT cart_id FROM checkout_index WHERE id = ?1")
    .bind(checkoutId)
    .first<{ cart_id: string }>();
  if (!row) return null;
  checkoutCarts.set(checkoutId, row.cart_id);
  return cartStub(env, row.cart_id);
}

/** A checkout for the holder of its cart's token (anyone else: not found). */
export async function getCheckout(
  env: Env,
  checkoutId: string,
  token: string | undefined,
): Promise<CheckoutResult> {
  const stub = await checkoutCart(env, checkoutId);
  if (!stub || !token) return notFound();
  const result = await stub.getCheckout(await cartTokenHash(token), checkoutId);
  return !result.ok && result.reason === "cart_not_found" ? notFound() : result;
}

/**
 * Confirms a test-provider payment with a test card, as Stripe.js would confirm a
 * PaymentIntent, and applies the outcome at once (the webhook equivalent), in one call to
 * the checkout's cart.
 */
export async function confirmCheckout(
  env: Env,
  input: { checkoutId: string; token: string | undefined; cardNumber: string },
): Promise<CheckoutResult> {
  const stub = await checkoutCart(env, input.checkoutId);
  if (!stub || !input.token) return notFound();
  const result = await stub.confirmTestCheckout(
    await cartTokenHash(input.token),
    input.checkoutId,
    input.cardNumber,
  );
  return !result.ok && result.reason === "cart_not_found" ? notFound() : result;
}

/**
 * Whether a provider outcome is about a payment Popcart created: its metadata names a
 * checkout of this shop (recorded in D1 when the checkout started) and the payment id is the
 * one recorded for that checkout. A shared Stripe account also carries other integrations'
 * and other shops' (staging) payments; those are never touched.
 */
async function paymentOwnership(
  env: Env,
  outcome: PaymentOutcome,
): Promise<"ours" | "unrecorded" | "foreign"> {
  if (!CHECKOUT_ID.test(outcome.checkout_id)) return "foreign";
  const row = await env.DB.prepare("SELECT cart_id, payment_id FROM checkout_index WHERE id = ?1")
    .bind(outcome.checkout_id)
    .first<{ cart_id: string; payment_id: string | null }>();
  if (!row || row.cart_id !== outcome.cart_id) return "foreign";
  if (row.payment_id === null) return "unrecorded";
  return row.payment_id === outcome.payment_id ? "ours" : "foreign";
}

/**
 * The checkout domain's `PaymentOutcomeHandler`, for Stripe webhooks and test confirmations.
 * Outcomes for payments Popcart did not create are logged and ignored. The cart object applies
 * the rest idempotently (it checks the payment id again). A successful payment of ours whose
 * checkout is gone (its cart expired) is refunded: money is never kept without an order.
 */
export const applyPaymentOutcome: PaymentOutcomeHandler = async (env, outcome) => {
  const ownership = await paymentOwnership(env, outcome);
  if (ownership === "foreign") {
    log("warn", "payment_outcome_not_ours", {
      checkout_id: outcome.checkout_id,
      cart_id: outcome.cart_id,
      payment_id: outcome.payment_id,
      status: outcome.status,
    });
    return;
  }
  const stub = cartStub(env, outcome.cart_id);
  const result = stub ? await stub.applyPaymentOutcome(outcome) : notFound();
  if (result.ok) return;
  if (result.reason === "database_unavailable") {
    // Not applied yet: fail the delivery (503) so the provider retries it; never refund here.
    throw databaseDownError(result);
  }
  log("error", "payment_outcome_without_checkout", {
    checkout_id: outcome.checkout_id,
    cart_id: outcome.cart_id,
    payment_id: outcome.payment_id,
    status: outcome.status,
  });
  // Only a payment recorded as ours is refunded; an unrecorded one is left for a person.
  if (outcome.status === "succeeded" && ownership === "ours") {
    const provider = paymentProviderFor(env);
    if (provider.name === outcome.provider) {
      await provider.refund({
        paymentId: outcome.payment_id,
        idempotencyKey: paymentIdempotencyKey(outcome.checkout_id, "refund:orphan"),
        reason: "no checkout for this payment",
      });
    }
  }
};
