import { type CartRefusal, refuse } from "../cart/refusals";
import { databaseOutage } from "../lib/d1-guard";
import { describeError, log } from "../lib/logging";
import {
  isProviderUnavailable,
  type PaymentOutcome,
  PaymentProviderError,
  paymentProviderFor,
} from "../payments/provider";
import { confirmTestPayment } from "../payments/test-provider";
import { markSettled } from "./checkout-index";
import { checkoutView } from "./checkout-view";
import { completeCheckout } from "./completion";
import { COMPLETION_RETRY_MS, EXPIRY_RETRY_MS } from "./deadlines";
import { applyOutcome, applySession, expireCheckout } from "./payment-outcome";
import type { ProviderPollThrottle } from "./poll-throttle";
import type { CheckoutStatus, CheckoutView } from "./schemas";
import type { CheckoutResult } from "./start";
import type { CheckoutStore } from "./store";

/*
 * The checkout saga of one cart, run by its cart object (the single writer) inside its
 * `exclusive` sections, against the object's `CheckoutStore`:
 *
 *   pending ──holds taken, payment created──▶ awaiting_payment ⇄ requires_action
 *      │                                           │
 *      │ refused / payment failed / window over    │ succeeded: completion intent, then
 *      ▼                                           ▼ commit stock, order, mark (completion.ts)
 *   failed | expired (holds given back, cart reopens)   completed (cart locked for good)
 *
 * start.ts starts or replays a checkout; payment-outcome.ts applies what the provider says;
 * completion.ts writes the order; cancel.ts gives holds back; this file holds the entry points
 * the object's RPC methods and alarm call.
 */

export type { CheckoutResult } from "./start";

/** What `reconcileCheckout` left behind: the checkout's status and whether it needs nothing more. */
export type ReconcileResult = { ok: true; status: CheckoutStatus; settled: boolean } | CartRefusal;

const TERMINAL_STATUSES: readonly string[] = ["completed", "failed", "expired"];

/** A checkout of this cart, reconciled with the provider while it still awaits payment. */
export async function checkoutStatus(
  store: CheckoutStore,
  checkoutId: string,
  polls: ProviderPollThrottle,
): Promise<CheckoutResult> {
  const row = store.checkout(checkoutId);
  if (!row) return refuse("checkout_not_found");
  if (row.completion !== null && row.order_id === null) {
    await completeCheckout(store, row, JSON.parse(row.completion) as PaymentOutcome);
  } else if (
    (row.status === "awaiting_payment" || row.status === "requires_action") &&
    row.payment_id &&
    polls.take(row.id)
  ) {
    // The "client confirmed" path: Stripe.js confirmed in the browser and the client
    // polls; if the webhook has not arrived (or never will), ask the provider directly,
    // at most once per poll interval (in between, the last answer stored is the answer).
    // Best effort: with the provider down or rate limiting, the stored state is the answer.
    try {
      const session = await paymentProviderFor(store.env).getPayment(row.payment_id);
      await applySession(store, row, session);
    } catch (error) {
      if (!isProviderUnavailable(error)) throw error;
      log("warn", "checkout_reconcile_skipped", { checkout_id: row.id, ...describeError(error) });
    }
  }
  return { ok: true, checkout: checkoutView(store, store.requireCheckout(checkoutId)), created: false };
}

/** Applies a payment outcome to the checkout it names, if its payment is that checkout's. */
export async function applyPaymentOutcome(
  store: CheckoutStore,
  outcome: PaymentOutcome,
): Promise<{ ok: true; checkout: CheckoutView } | CartRefusal> {
  const row = store.checkout(outcome.checkout_id);
  if (!row || row.payment_id !== outcome.payment_id) return refuse("checkout_not_found");
  await applyOutcome(store, row, outcome);
  return { ok: true as const, checkout: checkoutView(store, store.requireCheckout(row.id)) };
}

/**
 * Confirms a checkout's test payment with a card, as Stripe.js would, and applies the outcome
 * (the webhook's part) in the same call: with the offline provider a confirmation is one hop
 * from the edge to this cart. A payment not started yet answers the checkout as it stands.
 */
export async function confirmWithTestCard(
  store: CheckoutStore,
  checkoutId: string,
  cardNumber: string,
  polls: ProviderPollThrottle,
): Promise<CheckoutResult> {
  const row = store.checkout(checkoutId);
  if (!row) return refuse("checkout_not_found");
  if (row.provider !== "test" || paymentProviderFor(store.env).name !== "test") {
    return refuse(
      "confirmation_not_supported",
      "Payments are confirmed with Stripe.js; this route only serves the offline test provider.",
    );
  }
  if (!row.payment_id) return checkoutStatus(store, checkoutId, polls);
  let outcome: PaymentOutcome;
  try {
    outcome = await confirmTestPayment(store.env, row.payment_id, cardNumber);
  } catch (error) {
    if (error instanceof PaymentProviderError && error.code === "invalid_request") {
      return refuse("card_invalid", error.message);
    }
    throw error;
  }
  await applyOutcome(store, row, outcome);
  return { ok: true, checkout: checkoutView(store, store.requireCheckout(row.id)), created: false };
}

/**
 * Finishes whatever a checkout still owes, without its shopper: a recorded completion is
 * re-driven, a live payment is asked about at the provider and its outcome applied, a
 * `pending` checkout past its resume window is expired. Idempotent.
 */
export async function reconcileCheckout(store: CheckoutStore, checkoutId: string): Promise<ReconcileResult> {
  const row = store.checkout(checkoutId);
  if (!row) return refuse("checkout_not_found");
  try {
    if (row.completion !== null && row.order_id === null) {
      await completeCheckout(store, row, JSON.parse(row.completion) as PaymentOutcome);
    } else if ((row.status === "awaiting_payment" || row.status === "requires_action") && row.payment_id) {
      await applySession(store, row, await paymentProviderFor(store.env).getPayment(row.payment_id));
    } else if (row.status === "pending" && row.expires_at <= Date.now()) {
      await expireCheckout(store, row);
    }
  } catch (error) {
    if (!isProviderUnavailable(error)) throw error;
    return refuse("payment_provider_unavailable", error.message);
  }
  const current = store.requireCheckout(checkoutId);
  const settled = TERMINAL_STATUSES.includes(current.status);
  if (settled) await markSettled(store.env, checkoutId);
  return { ok: true, status: checkoutView(store, current).status, settled };
}

/**
 * The stock holds the cart relies on (line holds and its live checkouts' holds). `settling`
 * means a checkout is between steps (holds being taken or an order being completed): its
 * holds cannot be judged now.
 */
export function holdsInUse(store: CheckoutStore): {
  exists: boolean;
  reservation_ids: string[];
  settling: boolean;
} {
  if (!store.cart()) return { exists: false, reservation_ids: [], settling: false };
  const ids = new Set<string>();
  for (const line of store.lines()) if (line.reservation_id) ids.add(line.reservation_id);
  const live = store.checkouts("holding");
  for (const row of live) {
    for (const r of JSON.parse(row.reservations) as { reservation_id: string }[]) ids.add(r.reservation_id);
  }
  const settling = live.some((row) => row.reserved === 0 || row.completion !== null);
  return { exists: true, reservation_ids: [...ids], settling };
}

/**
 * The checkout half of the cart's alarm. First finishes every checkout whose payment succeeded
 * but whose order is still owed (crash recovery), then expires checkouts past their window
 * (settling with the provider, releasing holds). A step that needs the provider or D1 while they
 * are down is left for later: the answer is then how soon to try again (null: nothing deferred).
 */
export async function settleDueCheckouts(store: CheckoutStore, now: number): Promise<number | null> {
  let deferred = false;
  for (const row of store.checkouts("completing")) {
    try {
      await completeCheckout(store, row, JSON.parse(row.completion ?? "null") as PaymentOutcome);
      log("info", "checkout_completion_recovered", { checkout_id: row.id });
    } catch (error) {
      // Never give up on an owed order: retry on the next alarm whatever failed.
      log("error", "checkout_completion_deferred", { checkout_id: row.id, ...describeError(error) });
      deferred = true;
    }
  }
  const due = store.checkouts("active").filter((row) => row.completion === null && row.expires_at <= now);
  for (const row of due) {
    try {
      await expireCheckout(store, row);
    } catch (error) {
      if (!isProviderUnavailable(error) && !databaseOutage(error)) throw error;
      // Settling needs the provider (or D1): try again soon rather than burning the
      // platform's alarm retries. Holds lapse on their own after the grace period.
      log("warn", "checkout_expiry_deferred", { checkout_id: row.id, ...describeError(error) });
      deferred = true;
    }
  }
  if (!deferred) return null;
  return store.checkouts("completing").length > 0 ? COMPLETION_RETRY_MS : EXPIRY_RETRY_MS;
}
