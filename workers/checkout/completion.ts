import type { CheckoutRow } from "../../durable-objects/cart-storage";
import { log } from "../lib/logging";
import { refundOrder } from "../orders/refunds";
import { writeOrder } from "../orders/service";
import { type PaymentOutcome, paymentIdempotencyKey, paymentProviderFor } from "../payments/provider";
import { redeemPromotionUses, releasePromotionUses } from "../promotions/service";
import { markSettled } from "./checkout-index";
import { lookupToken } from "./checkout-view";
import {
  commitCheckoutReservations,
  releaseCheckoutReservations,
  returnCheckoutReservations,
} from "./reservations";
import { type CheckoutReservation, type CheckoutSnapshot, orderDraftFrom } from "./snapshot";
import type { CheckoutStore } from "./store";

/**
 * Paid: commit the stock, then write the order once (`writeOrder` writes `order.placed` and
 * `order.paid` to the outbox in the same D1 batch). If stock was lost
 * (the payment outlived its reservations and the units were sold), nothing is oversold: the
 * units that were committed go back, the order is written flagged and refunded in full.
 *
 * Crash recovery (README, "Crash recovery of a checkout's completion"): the completion intent
 * is recorded, the alarm armed and storage flushed before anything else is written anywhere.
 */
export async function completeCheckout(
  store: CheckoutStore,
  row: CheckoutRow,
  outcome: PaymentOutcome,
): Promise<void> {
  const ordered = store.checkouts("completed").find((checkout) => checkout.id !== row.id);
  if (ordered) {
    await refundDuplicate(store, row, outcome, ordered.id);
    return;
  }
  if (row.completion === null) {
    // The order is owed from here on. The intent (with the outcome it needs) is written and
    // flushed, and the alarm armed, before any stock is committed: whatever dies below, the
    // alarm, a replay, the webhook or the sweeper re-runs this function, and every step in it
    // is idempotent per checkout (commit per order, order per checkout, refund per key).
    store.updateCheckout(row.id, { completion: JSON.stringify(outcome) });
    await store.scheduleAlarm();
    await store.sync();
  }
  const env = store.env;
  const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
  const reservations = JSON.parse(row.reservations) as CheckoutReservation[];
  const { committed, lost } = await commitCheckoutReservations(env, {
    checkoutId: row.id,
    cartId: snapshot.cart_id,
    email: snapshot.email,
    reservations,
  });
  const flags: string[] = [];
  if (outcome.amount.amount !== snapshot.total || outcome.amount.currency !== snapshot.currency) {
    flags.push("payment_amount_mismatch");
  }
  if (lost.length > 0) {
    await returnCheckoutReservations(env, row.id, committed, "stock lost before payment completed");
    await releasePromotionUses(env, row.id);
    flags.push("stock_lost_refunded");
  } else {
    const { overLimit } = await redeemPromotionUses(env, {
      checkoutId: row.id,
      email: snapshot.email,
      promotionIds: snapshot.promotions.map((promotion) => promotion.promotion_id),
    });
    if (overLimit.length > 0) flags.push("promotion_limit_exceeded");
  }
  const payment = {
    ...outcome,
    provider: (row.provider ?? outcome.provider) as PaymentOutcome["provider"],
  };
  const { order } = await writeOrder(
    env,
    orderDraftFrom(row.id, snapshot, payment, {
      flags,
      lookupToken: lookupToken(store, row),
      // Stock-lost orders were returned to stock already: nothing for a cancellation to restock.
      reservations: new Map(lost.length > 0 ? [] : committed.map((r) => [r.line_id, r.reservation_id])),
    }),
    // With the order and its events written nothing outside this cart is owed, unless a refund
    // still is: then the checkout is settled only after it (below).
    { settlesCheckout: lost.length === 0, claimEvents: true },
  );
  if (lost.length > 0) {
    await refundOrder(env, paymentProviderFor(env), {
      orderId: order.id,
      reason: `stock lost for ${lost.map((reservation) => reservation.sku).join(", ")}`,
      idempotencyKey: paymentIdempotencyKey(row.id, "refund:stock_lost"),
    });
  }
  const now = Date.now();
  store.updateCheckout(row.id, {
    status: lost.length > 0 ? "failed" : "completed",
    order_id: JSON.stringify({ id: order.id, number: order.number }),
    failure:
      lost.length > 0
        ? JSON.stringify({
            code: "stock_lost_refunded",
            message: "An item sold out before the payment completed; the payment was refunded in full.",
          })
        : null,
    updated_at: now,
  });
  // Line holds were consumed by the commit (or returned); the cart no longer owns them.
  for (const reservation of reservations) {
    if (reservation.source === "line") {
      store.setLineHold(reservation.line_id, { reservation_id: null, reservation_expires_at: null });
    }
  }
  store.setCartStatus(lost.length > 0 ? "open" : "completed", now);
  // Nothing is owed any more: the 5 s completion retry would wake the cart for nothing.
  await store.touch({ force: true });
  if (lost.length > 0) await markSettled(env, row.id);
}

/**
 * A payment succeeded for a checkout of a cart that already became an order (a late payment
 * from an earlier attempt): one cart never makes two orders, so this payment is refunded in
 * full and its checkout gives back what it held.
 */
async function refundDuplicate(
  store: CheckoutStore,
  row: CheckoutRow,
  outcome: PaymentOutcome,
  orderCheckout: string,
): Promise<void> {
  const env = store.env;
  log("error", "checkout_duplicate_payment_refunded", {
    checkout_id: row.id,
    payment_id: outcome.payment_id,
    order_checkout_id: orderCheckout,
  });
  await paymentProviderFor(env).refund({
    paymentId: outcome.payment_id,
    idempotencyKey: paymentIdempotencyKey(row.id, "refund:duplicate"),
    reason: "duplicate",
  });
  const reservations = JSON.parse(row.reservations) as CheckoutReservation[];
  await releaseCheckoutReservations(env, reservations, { includeLineHolds: false });
  await releasePromotionUses(env, row.id);
  store.updateCheckout(row.id, {
    status: "failed",
    failure: JSON.stringify({
      code: "duplicate_payment_refunded",
      message: "This cart was already paid for; this later payment was refunded in full.",
    }),
  });
}
