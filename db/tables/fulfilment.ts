import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** The fulfilment worker's own view of an order: which steps of the hand-off are done. */
export const fulfilmentOrders = sqliteTable("fulfilment_orders", {
  orderId: text("order_id").primaryKey(),
  orderNumber: text("order_number").notNull(),
  email: text("email").notNull(),
  /** Snapshot from `order.placed`, sent to the 3PL when the order is paid. */
  snapshot: text("snapshot").notNull(),
  placedAt: integer("placed_at").notNull(),
  paidAt: integer("paid_at"),
  handedOffAt: integer("handed_off_at"),
  cancelledAt: integer("cancelled_at"),
  updatedAt: integer("updated_at").notNull(),
});

/** Every outbound webhook attempt, successful or not: the delivery log operators read. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    url: text("url").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    ok: integer("ok", { mode: "boolean" }).notNull(),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_deliveries_order_idx").on(t.orderId, t.createdAt)],
);

/** Customer notifications sent, one per (order, kind), so a redelivered event never re-sends. */
export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    kind: text("kind").notNull(),
    recipient: text("recipient").notNull(),
    sentAt: integer("sent_at").notNull(),
  },
  (t) => [uniqueIndex("notifications_order_kind_unique").on(t.orderId, t.kind)],
);
