import { customerIdentity } from "../customers/identity";
import {
  commitReservation,
  curtailReservation,
  extendReservation,
  type ReserveRefusal,
  type ReserveStockInput,
  releaseReservation,
  reserveStock,
  returnCommitted,
} from "../inventory/service";
import type { Admission } from "../waiting-room/admission";
import type { CheckoutReservation } from "./snapshot";

export interface ReservableLine {
  line_id: string;
  sku: string;
  quantity: number;
  /** The line's own hold (flash-sale SKUs), reused and extended rather than doubled. */
  reservation_id: string | null;
}

export type ReserveAllResult =
  | {
      ok: true;
      reservations: CheckoutReservation[];
      /** The deadline each extended line hold has now (ms), for the cart view. */
      lineExpiries: Map<string, number>;
    }
  | {
      ok: false;
      line_id: string;
      sku: string;
      reason: ReserveRefusal;
      available: number;
      waiting_room?: string;
    };

/**
 * Holds stock for every line for `ttlSeconds`, all or nothing. Lines that already hold stock
 * have their hold extended; the others reserve now, keyed by checkout and SKU so a retried
 * call takes nothing twice. If any line is refused, every hold taken here is released and
 * the first refused line is named. New holds of a sale behind a waiting room need `admission`,
 * and so does extending a line hold past the sale's TTL (the inventory caps how far it goes).
 * Every hold counts for `customer`, the buyer's normalised identity.
 */
export async function reserveCheckoutLines(
  env: Env,
  input: CheckoutHolder & { lines: readonly ReservableLine[]; admission: Admission },
): Promise<ReserveAllResult> {
  const lineExpiries = new Map<string, number>();
  const attempts = await Promise.all(
    input.lines.map(async (line) => {
      if (line.reservation_id !== null) {
        const extended = await extendReservation(env, {
          sku: line.sku,
          reservationId: line.reservation_id,
          ttlSeconds: input.ttlSeconds,
          admission: input.admission,
        });
        if (extended.ok && extended.reservation.quantity === line.quantity) {
          lineExpiries.set(line.line_id, Date.parse(extended.reservation.expires_at));
          return { ok: true as const, reservation: hold(line, line.reservation_id, "line") };
        }
        if (!extended.ok && "waiting_room" in extended) {
          return {
            ok: false as const,
            reason: extended.reason,
            available: 0,
            waiting_room: extended.waiting_room,
            line,
          };
        }
      }
      const reserved = await reserveStock(env, checkoutHoldRequest(input, line, input.admission));
      if (!reserved.ok) return { ...reserved, line };
      return { ok: true as const, reservation: hold(line, reserved.reservation.id, "checkout") };
    }),
  );
  const taken = attempts.flatMap((attempt) => (attempt.ok ? [attempt.reservation] : []));
  const refused = attempts.find((attempt) => !attempt.ok);
  if (refused && !refused.ok) {
    await releaseCheckoutReservations(env, taken, { includeLineHolds: false });
    return {
      ok: false,
      line_id: refused.line.line_id,
      sku: refused.line.sku,
      reason: refused.reason,
      available: refused.available,
      ...(refused.waiting_room === undefined ? {} : { waiting_room: refused.waiting_room }),
    };
  }
  return { ok: true, reservations: taken, lineExpiries };
}

/** Whose a checkout's own holds are and for how long: asked again with these, the inventory finds them. */
interface CheckoutHolder {
  checkoutId: string;
  cartId: string;
  customer: string;
  ttlSeconds: number;
}

/**
 * The request for a checkout's own hold on a line. Keyed by checkout and SKU, and always with
 * the same holder, customer, quantity and TTL: the inventory refuses a key asked again with
 * other values as reused, so taking a hold and finding it again after a crash must ask alike.
 */
function checkoutHoldRequest(
  holder: CheckoutHolder,
  line: ReservableLine,
  admission: Admission,
): ReserveStockInput {
  return {
    sku: line.sku,
    holder: holder.cartId,
    customer: holder.customer,
    quantity: line.quantity,
    ttlSeconds: holder.ttlSeconds,
    key: `${holder.checkoutId}:${line.sku}`,
    admission,
  };
}

function hold(
  line: ReservableLine,
  reservationId: string,
  source: CheckoutReservation["source"],
): CheckoutReservation {
  return {
    sku: line.sku,
    line_id: line.line_id,
    quantity: line.quantity,
    reservation_id: reservationId,
    source,
  };
}

/**
 * Releases a checkout's holds (idempotent). Holds that belong to cart lines stay unless
 * `includeLineHolds`: a failed payment leaves the shopper's flash-sale items held in the cart.
 */
export async function releaseCheckoutReservations(
  env: Env,
  reservations: readonly CheckoutReservation[],
  options: { includeLineHolds: boolean },
): Promise<void> {
  await Promise.all(
    reservations
      .filter((reservation) => options.includeLineHolds || reservation.source === "checkout")
      .map((reservation) =>
        releaseReservation(env, { sku: reservation.sku, reservationId: reservation.reservation_id }),
      ),
  );
}

/**
 * A failed or expired checkout gives back the time it added to the cart's line holds: each
 * returns to the sale's TTL from its first grant (released if that has passed). Returns the
 * deadline each line hold has now, null where none is left.
 */
export async function curtailLineHolds(
  env: Env,
  reservations: readonly CheckoutReservation[],
): Promise<Map<string, number | null>> {
  const deadlines = new Map<string, number | null>();
  await Promise.all(
    reservations
      .filter((reservation) => reservation.source === "line")
      .map(async (reservation) => {
        const curtailed = await curtailReservation(env, {
          sku: reservation.sku,
          reservationId: reservation.reservation_id,
        });
        deadlines.set(
          reservation.line_id,
          curtailed.ok ? Date.parse(curtailed.reservation.expires_at) : null,
        );
      }),
  );
  return deadlines;
}

/**
 * Gives back the holds a checkout may have taken before it could record them (a crash while
 * reserving). Holds are keyed by checkout and SKU, so asking again under the same key returns
 * the hold if it was granted, and releasing it frees the units; if it never was, the unit taken
 * now is freed at once. Line holds are the cart's and stay.
 */
export async function releaseUnrecordedHolds(
  env: Env,
  input: CheckoutHolder & { lines: readonly ReservableLine[] },
): Promise<void> {
  await Promise.all(
    input.lines.map(async (line) => {
      const found = await reserveStock(env, checkoutHoldRequest(input, line, "exempt"));
      if (found.ok && found.reservation.id !== line.reservation_id) {
        await releaseReservation(env, { sku: line.sku, reservationId: found.reservation.id });
      }
    }),
  );
}

/**
 * Commits every hold to the checkout (the inventory objects are idempotent per order, and
 * the checkout maps to exactly one order). A hold that lapsed is re-reserved and committed if
 * stock is still there; otherwise it is reported lost and nothing is oversold.
 */
export async function commitCheckoutReservations(
  env: Env,
  input: { checkoutId: string; cartId: string; email: string; reservations: readonly CheckoutReservation[] },
): Promise<{ committed: CheckoutReservation[]; lost: CheckoutReservation[] }> {
  const customer = customerIdentity(input.email);
  const results = await Promise.all(
    input.reservations.map(async (reservation) => {
      const committed = await commitReservation(env, {
        sku: reservation.sku,
        reservationId: reservation.reservation_id,
        orderId: input.checkoutId,
        customer,
      });
      if (committed.ok) return { ok: true as const, reservation };
      // A commit refused for the buyer's limit is not retried: re-reserving would refuse too.
      if (!committed.ok && committed.reason === "limit_exceeded") return { ok: false as const, reservation };
      const again = await reserveStock(env, {
        sku: reservation.sku,
        holder: input.cartId,
        customer,
        quantity: reservation.quantity,
        key: `${input.checkoutId}:${reservation.sku}:recovery`,
        // The shopper has paid: recovering their units never sends them back to a queue.
        admission: "exempt",
      });
      if (!again.ok) return { ok: false as const, reservation };
      const recovered: CheckoutReservation = {
        ...reservation,
        reservation_id: again.reservation.id,
        source: "checkout",
      };
      const retried = await commitReservation(env, {
        sku: recovered.sku,
        reservationId: recovered.reservation_id,
        orderId: input.checkoutId,
      });
      return retried.ok ? { ok: true as const, reservation: recovered } : { ok: false as const, reservation };
    }),
  );
  return {
    committed: results.flatMap((result) => (result.ok ? [result.reservation] : [])),
    lost: results.flatMap((result) => (result.ok ? [] : [result.reservation])),
  };
}

/** Puts committed units back on sale (an order that could not be fulfilled and was refunded). */
export async function returnCheckoutReservations(
  env: Env,
  checkoutId: string,
  committed: readonly CheckoutReservation[],
  reason: string,
): Promise<void> {
  await Promise.all(
    committed.map((reservation) =>
      returnCommitted(env, {
        sku: reservation.sku,
        reservationId: reservation.reservation_id,
        reason,
        key: `${checkoutId}:${reservation.sku}:return`,
      }),
    ),
  );
}
