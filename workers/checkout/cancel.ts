import type { CheckoutRow } from "../../durable-objects/cart-storage";
import { customerIdentity } from "../customers/identity";
import { log } from "../lib/logging";
import { releasePromotionUses } from "../promotions/service";
import { markSettled } from "./checkout-index";
import { CHECKOUT_HOLD_TTL_SECONDS, PROCESSING_RECHECK_MS } from "./deadlines";
import { curtailLineHolds, releaseCheckoutReservations, releaseUnrecordedHolds } from "./reservations";
import type { CheckoutReservation, CheckoutSnapshot } from "./snapshot";
import type { CheckoutStore } from "./store";

/**
 * What a checkout's own holds are asked with: taking them (`reserveCheckoutLines`) and finding
 * them again when their ids were never recorded (`releaseUnrecordedHolds`) must ask alike.
 */
export function checkoutHolds(store: CheckoutStore, row: CheckoutRow) {
  const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
  return {
    checkoutId: row.id,
    cartId: snapshot.cart_id,
    customer: customerIdentity(snapshot.email),
    lines: store.lines().map((line) => ({
      line_id: line.id,
      sku: line.sku,
      quantity: line.quantity,
      reservation_id: line.reservation_id,
    })),
    ttlSeconds: CHECKOUT_HOLD_TTL_SECONDS,
  };
}

/** Gives back a checkout's stock and promotion uses and reopens the cart for a retry. */
export async function abandon(
  store: CheckoutStore,
  row: CheckoutRow,
  status: "failed" | "expired",
  failure: { code: string; message: string },
): Promise<void> {
  const env = store.env;
  const reservations = JSON.parse(row.reservations) as CheckoutReservation[];
  if (row.reserved === 0) await releaseUnrecordedHolds(env, checkoutHolds(store, row));
  await releaseCheckoutReservations(env, reservations, { includeLineHolds: false });
  // A failed payment never renews the shopper's holds: they fall back to the sale's TTL.
  const deadlines = await curtailLineHolds(env, reservations);
  for (const [lineId, expiresAt] of deadlines) {
    store.setLineHold(
      lineId,
      expiresAt === null
        ? { reservation_id: null, reservation_expires_at: null }
        : { reservation_expires_at: expiresAt },
    );
  }
  await releasePromotionUses(env, row.id);
  const now = Date.now();
  store.updateCheckout(row.id, { status, failure: JSON.stringify(failure), updated_at: now });
  store.setCartStatus("open", now, "checking_out");
  await store.touch();
  await markSettled(env, row.id);
}

/** The payment cannot be cancelled while it is processing: ask again later, cart still locked. */
export async function awaitSettlement(store: CheckoutStore, row: CheckoutRow): Promise<void> {
  const now = Date.now();
  store.updateCheckout(row.id, { expires_at: now + PROCESSING_RECHECK_MS, updated_at: now });
  log("info", "checkout_payment_processing", { checkout_id: row.id, payment_id: row.payment_id });
  await store.scheduleAlarm();
}
