import { eq, sql } from "drizzle-orm";
import { type Database, database } from "../../db/client";
import { fulfilmentOrders, notifications } from "../../db/schema";
import { createConsumer, type HandlerContext, RetryLater } from "../events/consumer";
import { reportCircuitChanges } from "../lib/circuit-reporting";
import { newId } from "../lib/ids";
import type { MetricsSink } from "../lib/metrics";
import { fulfilmentSettings } from "../lib/resilience-settings";
import { type OrderEvent, OrderEventSchema, type OrderSnapshot } from "../orders/events";
import { deliverWebhook } from "./delivery";
import { logNotifier, type NotificationKind, type Notifier } from "./notifier";

export interface FulfilmentDeps {
  notifier?: Notifier;
  fetchFn?: typeof fetch;
}

/** Bindings the fulfilment worker's handlers use (a subset of its generated `FulfilmentEnv`). */
export interface FulfilmentBindings {
  DB: D1Database;
  DEAD_LETTERS: Queue;
  FULFILMENT_WEBHOOK_URL: string;
  FULFILMENT_WEBHOOK_SECRET?: string;
  EVENT_MAX_ATTEMPTS?: string;
  FULFILMENT_TIMEOUT_MS?: string;
  FULFILMENT_BREAKER_THRESHOLD?: string;
  FULFILMENT_BREAKER_COOLDOWN_MS?: string;
  METRICS?: MetricsSink;
  CF_VERSION_METADATA?: WorkerVersionMetadata;
}

/**
 * The fulfilment worker's order-event consumer. Each step (hand-off, notification) is recorded,
 * so a redelivered or replayed event repeats nothing that already happened; an event that
 * depends on one not yet seen (`order.paid` before `order.placed`) waits and retries.
 */
export function createFulfilmentConsumer(deps: FulfilmentDeps = {}) {
  const notifier = deps.notifier ?? logNotifier;

  const send = (kind: NotificationKind, order: Row, data: Record<string, unknown>) =>
    notifier.send({ kind, to: order.email, orderId: order.orderId, orderNumber: order.orderNumber, data });

  async function notifyOnce(
    env: FulfilmentBindings,
    kind: NotificationKind,
    order: Row,
    data: Record<string, unknown>,
    dedupeKey: string = kind,
  ) {
    // Claim first, send second: a crash between them loses one notification rather than
    // sending it twice, which is the right trade for customer email.
    const claimed = await claimNotification(database(env.DB), dedupeKey, order);
    if (claimed.length > 0) await send(kind, order, data);
  }

  async function handle(event: OrderEvent, env: FulfilmentBindings, ctx: HandlerContext) {
    const db = database(env.DB);
    const now = Date.now();
    if (event.type === "order.placed") {
      // Recorded and marked processed in one step; a replay finds the row and changes nothing.
      const [inserted] = await db.batch([
        db
          .insert(fulfilmentOrders)
          .values({
            orderId: event.order_id,
            orderNumber: event.order.order_number,
            email: event.order.email,
            snapshot: JSON.stringify(event.order),
            placedAt: Date.parse(event.occurred_at),
            updatedAt: now,
          })
          .onConflictDoNothing()
          .returning(),
        ctx.markProcessed(),
      ]);
      // Its `order.paid` usually follows in the same batch: it starts from this row.
      if (inserted[0]) ctx.batchScratch.set(placedKey(event.order_id), inserted[0]);
      return;
    }
    const placedNow = ctx.batchScratch.get(placedKey(event.order_id)) as Row | undefined;
    ctx.batchScratch.delete(placedKey(event.order_id));
    const order =
      event.type === "order.paid" && placedNow
        ? placedNow
        : await db.query.fulfilmentOrders.findFirst({ where: eq(fulfilmentOrders.orderId, event.order_id) });

    switch (event.type) {
      case "order.paid": {
        if (!order) throw new RetryLater(`order ${event.order_id} not placed yet`, 5);
        if (order.cancelledAt !== null) return;
        // Paid, handed off, the confirmation claimed and the event marked: one write, with the
        // delivery's own record when there is a delivery. A crash before it re-delivers (the 3PL
        // drops the duplicate by its Idempotency-Key); a crash after it loses at most the one
        // confirmation being sent, never sends it twice.
        const paid = [
          db
            .update(fulfilmentOrders)
            .set({
              paidAt: sql`coalesce(${fulfilmentOrders.paidAt}, ${Date.parse(event.occurred_at)})`,
              handedOffAt: sql`coalesce(${fulfilmentOrders.handedOffAt}, ${Date.now()})`,
              updatedAt: now,
            })
            .where(eq(fulfilmentOrders.orderId, order.orderId)),
          claimNotification(db, "order_confirmation", order),
          ctx.markProcessed(),
        ] as const;
        const [, claimed] =
          order.handedOffAt === null
            ? await deliverWebhook(
                env.DB,
                target(env, deps),
                {
                  orderId: order.orderId,
                  eventId: event.id,
                  eventType: "fulfilment.requested",
                  attempt: ctx.attempts,
                  payload: fulfilmentRequest(
                    order.orderId,
                    JSON.parse(order.snapshot) as OrderSnapshot,
                    event.id,
                  ),
                },
                paid,
              )
            : await db.batch(paid);
        if ((claimed as unknown[]).length > 0) {
          await send("order_confirmation", order, { total: event.payment.amount });
        }
        return;
      }
      case "order.cancelled": {
        if (!order) throw new RetryLater(`order ${event.order_id} not placed yet`, 5);
        if (order.cancelledAt === null) {
          if (order.handedOffAt !== null) {
            await deliverWebhook(env.DB, target(env, deps), {
              orderId: order.orderId,
              eventId: event.id,
              eventType: "fulfilment.cancelled",
              attempt: ctx.attempts,
              payload: {
                type: "fulfilment.cancelled",
                order_id: order.orderId,
                order_number: order.orderNumber,
                reason: event.reason,
              },
            });
          }
          await db
            .update(fulfilmentOrders)
            .set({ cancelledAt: now, updatedAt: now })
            .where(eq(fulfilmentOrders.orderId, order.orderId));
        }
        await notifyOnce(env, "order_cancelled", order, { reason: event.reason });
        return;
      }
      case "order.refunded": {
        if (!order) throw new RetryLater(`order ${event.order_id} not placed yet`, 5);
        // Each (partial) refund is its own notification, de-duplicated by refund id.
        await notifyOnce(
          env,
          "order_refunded",
          order,
          { amount: event.refund.amount, currency: event.refund.currency },
          `order_refunded:${event.refund.refund_id}`,
        );
        return;
      }
      case "fulfilment.shipped":
      case "fulfilment.delivered": {
        if (!order) throw new RetryLater(`order ${event.order_id} not placed yet`, 5);
        await notifyOnce(
          env,
          event.type === "fulfilment.shipped" ? "order_shipped" : "order_delivered",
          order,
          {
            tracking_number: event.tracking?.number,
            carrier: event.tracking?.carrier,
          },
        );
        return;
      }
      case "fulfilment.fulfilling":
        return;
    }
  }

  return createConsumer<OrderEvent, FulfilmentBindings>({
    name: "fulfilment",
    queue: "ORDER_EVENTS",
    types: [
      "order.placed",
      "order.paid",
      "order.cancelled",
      "order.refunded",
      "fulfilment.fulfilling",
      "fulfilment.shipped",
      "fulfilment.delivered",
    ],
    schema: OrderEventSchema,
    maxAttempts: (env) => Number(env.EVENT_MAX_ATTEMPTS ?? 6),
    handle,
  });
}

type Row = typeof fulfilmentOrders.$inferSelect;

const placedKey = (orderId: string) => `fulfilment:placed:${orderId}`;

/** Claims a notification (unique per order and key); the returned row says it is ours to send. */
function claimNotification(db: Database, dedupeKey: string, order: Row) {
  return db
    .insert(notifications)
    .values({
      id: newId("evt").replace("evt_", "ntf_"),
      orderId: order.orderId,
      kind: dedupeKey,
      recipient: order.email,
      sentAt: Date.now(),
    })
    .onConflictDoNothing()
    .returning({ id: notifications.id });
}

function target(env: FulfilmentBindings, deps: FulfilmentDeps) {
  if (!env.FULFILMENT_WEBHOOK_SECRET) throw new Error("FULFILMENT_WEBHOOK_SECRET is not configured");
  const settings = fulfilmentSettings(env);
  return {
    url: env.FULFILMENT_WEBHOOK_URL,
    secret: env.FULFILMENT_WEBHOOK_SECRET,
    timeoutMs: settings.timeoutMs,
    breaker: settings.breaker,
    onStateChange: reportCircuitChanges(env),
    ...(deps.fetchFn ? { fetchFn: deps.fetchFn } : {}),
  };
}

/** The body a warehouse receives: everything needed to pick, pack and ship. */
function fulfilmentRequest(orderId: string, order: OrderSnapshot, eventId: string) {
  return {
    type: "fulfilment.requested",
    event_id: eventId,
    order_id: orderId,
    order_number: order.order_number,
    email: order.email,
    lines: order.lines.map((line) => ({ sku: line.sku, title: line.title, quantity: line.quantity })),
    shipping_address: order.shipping_address,
    shipping_method: order.shipping_method,
  };
}
