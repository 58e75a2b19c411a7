import {
  type ReservationView,
  type ReserveRefused,
  releaseReservation,
  reserveOnAdd,
  resizeReservation,
  type TransferResult,
  transferReservation,
} from "../inventory/service";
import { newId } from "../lib/ids";
import type { Admission } from "../waiting-room/admission";

/**
 * A line's stock hold: flash-sale SKUs hold stock from add-to-cart, others hold none until
 * checkout. `customer_required`: the sale limits units per customer, so no stock is held for
 * a cart that has not said who the customer is.
 */
export type LineHold =
  | { ok: true; reservation: ReservationView | null }
  | ReserveRefused
  | { ok: false; reason: "customer_required"; available: number; waiting_room?: undefined };

/**
 * Makes a line's hold match `quantity` under the SKU's policy. A line keeps one reservation
 * per cart per SKU: a second add or an update resizes it atomically instead of taking a new
 * one, so duplicate adds can never allocate twice. A hold that expired is replaced. Taking
 * new units (growing or replacing a hold) passes the shopper's waiting-room `admission` on.
 * Whether a new line holds stock at all is the inventory object's call (`reserveOnAdd`), so
 * adding a line costs one object call, not a policy read and then a reservation.
 */
export async function holdLineStock(
  env: Env,
  line: {
    cartId: string;
    sku: string;
    quantity: number;
    /** The customer's normalised identity (workers/customers/identity.ts), null without an email. */
    customer: string | null;
    reservationId: string | null;
  },
  admission: Admission,
): Promise<LineHold> {
  if (line.reservationId !== null) {
    const resized = await resizeReservation(env, {
      sku: line.sku,
      reservationId: line.reservationId,
      quantity: line.quantity,
      key: newId("res"),
      singleUse: true,
      admission,
    });
    if (resized.ok) return { ok: true, reservation: resized.reservation };
    if (resized.reason !== "not_found" && resized.reason !== "not_held") {
      return { ...resized, reason: resized.reason };
    }
    // The old hold lapsed: try a fresh one below.
  }
  return reserveOnAdd(env, {
    sku: line.sku,
    holder: line.cartId,
    ...(line.customer ? { customer: line.customer } : {}),
    quantity: line.quantity,
    key: newId("res"),
    singleUse: true,
    admission,
  });
}

/**
 * Makes a line's hold count for `customer` after the cart's email changed; refused when that
 * customer is at the sale's limit. Holds that lapsed meanwhile need nothing.
 */
export async function rehomeLineStock(
  env: Env,
  line: { sku: string; reservationId: string | null; customer: string },
): Promise<TransferResult | { ok: true; reservation: null }> {
  if (line.reservationId === null) return { ok: true, reservation: null };
  const moved = await transferReservation(env, {
    sku: line.sku,
    reservationId: line.reservationId,
    customer: line.customer,
    key: `transfer:${line.reservationId}:${line.customer}`,
  });
  if (!moved.ok && (moved.reason === "not_found" || moved.reason === "not_held")) {
    return { ok: true, reservation: null };
  }
  return moved;
}

/** Gives a line's held stock back (idempotent: released or expired holds are fine). */
export async function releaseLineStock(
  env: Env,
  line: { sku: string; reservationId: string | null },
): Promise<void> {
  if (line.reservationId === null) return;
  await releaseReservation(env, { sku: line.sku, reservationId: line.reservationId });
}
