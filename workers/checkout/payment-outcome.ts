import type { CheckoutRow } from "../../durable-objects/cart-storage";
import {
  type PaymentOutcome,
  type PaymentSession,
  paymentIdempotencyKey,
  paymentProviderFor,
} from "../payments/provider";
import { abandon, awaitSettlement } from "./cancel";
import { completeCheckout } from "./completion";
import type { CheckoutStatus } from "./schemas";
import type { CheckoutStore } from "./store";

type StoredStatus = "pending" | CheckoutStatus;

/**
 * Applies a payment outcome (webhook, test confirmation or reconciliation). Idempotent and
 * order-insensitive: a success after a failure or an expiry still completes (re-reserving
 * stock, refunding if it is gone); a failure after a success is ignored.
 */
export async function applyOutcome(
  store: CheckoutStore,
  row: CheckoutRow,
  outcome: PaymentOutcome,
): Promise<void> {
  const status = row.status as StoredStatus;
  switch (outcome.status) {
    case "succeeded":
      if (status !== "completed" && row.order_id === null) await completeCheckout(store, row, outcome);
      return;
    case "requires_action":
      if (status === "awaiting_payment") store.updateCheckout(row.id, { status: "requires_action" });
      return;
    case "failed":
    case "canceled":
      if (status === "pending" || status === "awaiting_payment" || status === "requires_action") {
        await closeUnpaid(store, row, "failed", {
          code: outcome.status === "failed" ? "payment_failed" : "payment_canceled",
          message:
            outcome.failure_message ??
            (outcome.status === "failed" ? "The payment failed." : "The payment was canceled."),
        });
      }
      return;
  }
}

/** Applies a provider's view of the payment when it is terminal (or needs action). */
export async function applySession(
  store: CheckoutStore,
  row: CheckoutRow,
  session: PaymentSession,
): Promise<void> {
  const status =
    session.status === "succeeded" || session.status === "failed" || session.status === "canceled"
      ? session.status
      : session.status === "requires_action"
        ? "requires_action"
        : null;
  if (status === null) return;
  await applyOutcome(store, row, {
    event_id: `reconcile:${session.payment_id}:${session.status}`,
    provider: session.provider,
    payment_id: session.payment_id,
    checkout_id: row.id,
    cart_id: store.requireCart().id,
    status,
    amount: session.amount,
  });
}

/**
 * A payment that turned out to have succeeded completes its checkout; one still processing
 * keeps it open, asked about again later. Either way nothing is given back: true.
 */
async function stillPaying(
  store: CheckoutStore,
  row: CheckoutRow,
  session: PaymentSession,
): Promise<boolean> {
  if (session.status === "succeeded") {
    await applySession(store, row, session);
    return true;
  }
  if (session.status === "processing") {
    await awaitSettlement(store, row);
    return true;
  }
  return false;
}

/**
 * Ends a checkout whose payment did not succeed. The payment is cancelled first, so it can
 * never succeed after its stock and promotion uses were given back; if the cancel reveals
 * that it succeeded meanwhile, the checkout completes instead.
 */
async function closeUnpaid(
  store: CheckoutStore,
  row: CheckoutRow,
  status: "failed" | "expired",
  failure: { code: string; message: string },
): Promise<void> {
  if (row.payment_id) {
    const provider = paymentProviderFor(store.env);
    const session = await provider.cancelPayment(row.payment_id, paymentIdempotencyKey(row.id, "cancel"));
    if (await stillPaying(store, row, session)) return;
  }
  await abandon(store, row, status, failure);
}

/**
 * Payment window over: settle with the provider, else cancel and give everything back. A
 * payment still `processing` (bank debits, delayed methods) can yet succeed, so the checkout
 * stays open and the cart locked until it settles: reopening now is how one cart got two orders.
 */
export async function expireCheckout(store: CheckoutStore, row: CheckoutRow): Promise<void> {
  if (row.payment_id) {
    const session = await paymentProviderFor(store.env).getPayment(row.payment_id);
    if (await stillPaying(store, row, session)) return;
  }
  await closeUnpaid(store, row, "expired", {
    code: "payment_window_expired",
    message: "The payment was not completed in time; start a new checkout.",
  });
}
