import { eq } from "drizzle-orm";
import { database } from "../../db/client";
import { orders } from "../../db/schema";
import { publishOutbox } from "../events/outbox";
import { describeError, log } from "../lib/logging";
import { ApiError, problems } from "../lib/problem";
import type { PaymentProvider } from "../payments/provider";
import { type OrderEventType, orderEventId } from "./events";
import { CANCELLABLE, type OrderStatus, transition } from "./lifecycle";
import { refundOrder } from "./refunds";
import { getOrder } from "./service";

export type FulfilmentStatus = "fulfilling" | "shipped" | "delivered";
export interface Tracking {
  carrier: string;
  number: string;
  url?: string | undefined;
}

/**
 * Moves an order along the lifecycle and records it, in ONE D1 batch: the guarded status
 * update, a status-history entry and the outbox event. History and event ids are derived
 * from (order, status), and every insert is conditional on the order now having the target
 * status, so concurrent or repeated calls record the change once.
 */
async function applyTransition(
  env: Env,
  orderId: string,
  to: OrderStatus,
  event: { type: OrderEventType; body: Record<string, unknown> },
  note: string,
): Promise<{ from: OrderStatus; changed: boolean }> {
  const order = await database(env.DB).query.orders.findFirst({ where: eq(orders.id, orderId) });
  if (!order) throw problems.notFound("Order", "order_not_found");
  const verdict = transition(order.status, to);
  if (!verdict.ok) {
    throw new ApiError(409, "illegal_transition", "Illegal status transition", {
      detail: `Order ${order.number} is ${order.status}; it cannot become ${to}.`,
      extensions: { order_status: order.status, requested_status: to },
    });
  }
  if (!verdict.changed) return { from: order.status, changed: false };

  const now = Date.now();
  const eventId = await orderEventId(orderId, event.type);
  const payload = JSON.stringify({
    id: eventId,
    type: event.type,
    version: 1,
    occurred_at: new Date(now).toISOString(),
    order_id: orderId,
    ...event.body,
  });
  const results = await env.DB.batch([
    env.DB.prepare("UPDATE orders SET status = ?2, updated_at = ?4 WHERE id = ?1 AND status = ?3").bind(
      orderId,
      to,
      order.status,
      now,
    ),
    env.DB.prepare(
      `INSERT OR IGNORE INTO order_status_history (id, order_id, status, note, created_at)
       SELECT ?1 || ':' || ?2, ?1, ?2, ?3, ?4 FROM orders WHERE id = ?1 AND status = ?2`,
    ).bind(orderId, to, note, now),
    env.DB.prepare(
      `INSERT OR IGNORE INTO outbox (id, queue, type, aggregate_id, payload, created_at, send_attempts)
       SELECT ?2, 'ORDER_EVENTS', ?3, ?1, ?4, ?5, 0 FROM orders WHERE id = ?1 AND status = ?6`,
    ).bind(orderId, eventId, event.type, payload, now, to),
  ]);
  const changed = (results[0]?.meta.changes ?? 0) > 0;
  if (!changed) {
    // Someone else moved the order between our read and our write: judge again from scratch.
    return applyTransition(env, orderId, to, event, note);
  }
  try {
    await publishOutbox(env, [eventId]);
  } catch (error) {
    log("warn", "order_event_publish_deferred", { event_ids: [eventId], ...describeError(error) });
  }
  return { from: order.status, changed: true };
}

/** Marks an order fulfilling, shipped (with tracking) or delivered. Repeating an action is a no-op. */
export async function markFulfilment(
  env: Env,
  orderId: string,
  status: FulfilmentStatus,
  tracking: Tracking | null,
) {
  const note = tracking ? `${status} via ${tracking.carrier} ${tracking.number}` : status;
  const result = await applyTransition(
    env,
    orderId,
    status,
    { type: `fulfilment.${status}`, body: { tracking } },
    note,
  );
  const order = await getOrder(env, orderId);
  if (!order) throw problems.notFound("Order", "order_not_found");
  return { order, changed: result.changed };
}

export interface CancelDeps {
  provider: PaymentProvider;
  /** Returns an order's sold units to stock; idempotent per order (inventory keys by order id). */
  restock: (env: Env, orderId: string) => Promise<void>;
}

/**
 * Cancels an unshipped order: status + `order.cancelled` event in one batch, then the stock is
 * returned and the payment refunded, each idempotent by a key derived from the order. Calling
 * cancel again on a cancelled order re-runs those two steps with the same keys, which is how a
 * cancellation interrupted half-way completes, and never restocks or refunds twice.
 */
export async function cancelOrder(env: Env, deps: CancelDeps, orderId: string, reason: string) {
  const current = await getOrder(env, orderId);
  if (!current) throw problems.notFound("Order", "order_not_found");
  if (current.status !== "cancelled" && !CANCELLABLE.includes(current.status)) {
    throw new ApiError(409, "illegal_transition", "Illegal status transition", {
      detail: `Order ${current.number} is ${current.status}; only ${CANCELLABLE.join(", ")} orders can be cancelled.`,
      extensions: { order_status: current.status, requested_status: "cancelled" },
    });
  }
  const { changed } = await applyTransition(
    env,
    orderId,
    "cancelled",
    { type: "order.cancelled", body: { reason } },
    `cancelled: ${reason}`,
  );
  await deps.restock(env, orderId);
  const refundable = current.total.amount - current.refunded_total.amount;
  if (refundable > 0) {
    await refundOrder(env, deps.provider, {
      orderId,
      reason: `cancelled: ${reason}`,
      idempotencyKey: `cancel:${orderId}`,
    });
  }
  const order = await getOrder(env, orderId);
  if (!order) throw problems.notFound("Order", "order_not_found");
  return { order, changed };
}
