/**
 * The order lifecycle, in one place. Every status change goes through `transition`, which
 * either allows it or says why not; callers record the change in the status history and the
 * outbox in the same D1 batch.
 *
 *   placed → paid → fulfilling → shipped → delivered
 *      ↘ cancelled ↙ (before shipping)      paid/fulfilling/shipped/delivered → refunded (full refund)
 */
export const ORDER_STATUSES = [
  "placed",
  "paid",
  "fulfilling",
  "shipped",
  "delivered",
  "cancelled",
  "refunded",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const ALLOWED: Record<OrderStatus, readonly OrderStatus[]> = {
  placed: ["paid", "cancelled"],
  paid: ["fulfilling", "shipped", "cancelled", "refunded"],
  fulfilling: ["shipped", "cancelled", "refunded"],
  shipped: ["delivered", "refunded"],
  delivered: ["refunded"],
  cancelled: [],
  refunded: [],
};

export type TransitionResult =
  | { ok: true; from: OrderStatus; to: OrderStatus; changed: boolean }
  | { ok: false; from: OrderStatus; to: OrderStatus; reason: "illegal_transition" };

/**
 * Whether `from → to` is allowed. Asking for the status an order already has is allowed and
 * reports `changed: false`, which makes repeated admin actions idempotent.
 */
export function transition(from: OrderStatus, to: OrderStatus): TransitionResult {
  if (from === to) return { ok: true, from, to, changed: false };
  return ALLOWED[from].includes(to)
    ? { ok: true, from, to, changed: true }
    : { ok: false, from, to, reason: "illegal_transition" };
}

/** Statuses from which an order can still be cancelled (nothing has left the warehouse). */
export const CANCELLABLE: readonly OrderStatus[] = ["placed", "paid", "fulfilling"];

export const allowedNext = (from: OrderStatus): readonly OrderStatus[] => ALLOWED[from];
