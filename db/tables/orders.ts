import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ORDER_STATUSES } from "../../workers/orders/lifecycle";

/** Refund progress, kept apart from the lifecycle status so a partial refund is visible. */
export const ORDER_PAYMENT_STATUSES = ["paid", "partially_refunded", "refunded"] as const;
export type OrderPaymentStatus = (typeof ORDER_PAYMENT_STATUSES)[number];

/**
 * Named counters. Order numbers come from the `orders` row, incremented in the same batch
 * that inserts the order, so numbers are dense and never handed out twice.
 */
export const sequences = sqliteTable("sequences", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});

export const orders = sqliteTable(
  "orders",
  {
    id: text("id").primaryKey(),
    /** Human-friendly number such as `PC-100042`. */
    number: text("number").notNull(),
    /** One order per checkout: the key that makes placing an order idempotent. */
    checkoutId: text("checkout_id").notNull(),
    cartId: text("cart_id").notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull(),
    paymentStatus: text("payment_status", { enum: ORDER_PAYMENT_STATUSES }).notNull(),
    /** Lower-cased so admin filters match regardless of how the shopper typed it. */
    email: text("email").notNull(),
    currency: text("currency").notNull(),
    subtotal: integer("subtotal").notNull(),
    discountTotal: integer("discount_total").notNull(),
    shippingTotal: integer("shipping_total").notNull(),
    taxTotal: integer("tax_total").notNull(),
    total: integer("total").notNull(),
    /** Sum of pending and succeeded refunds, recomputed from `order_refunds` on every change. */
    refundedTotal: integer("refunded_total").notNull().default(0),
    taxInclusive: integer("tax_inclusive", { mode: "boolean" }).notNull(),
    shippingAddress: text("shipping_address", { mode: "json" }).$type<Record<string, unknown> | null>(),
    shippingMethod: text("shipping_method", { mode: "json" })
      .$type<{ id: string; name: string; amount: number }>()
      .notNull(),
    promotionCodes: text("promotion_codes", { mode: "json" }).$type<string[]>().notNull(),
    flags: text("flags", { mode: "json" }).$type<string[]>().notNull(),
    /** SHA-256 of the guest lookup token; the token itself is never stored. */
    lookupTokenHash: text("lookup_token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("orders_number_unique").on(t.number),
    uniqueIndex("orders_checkout_unique").on(t.checkoutId),
    index("orders_created_idx").on(t.createdAt, t.id),
    index("orders_status_created_idx").on(t.status, t.createdAt, t.id),
    index("orders_email_created_idx").on(t.email, t.createdAt, t.id),
  ],
);

/** Line snapshots: what was bought at what price, independent of later catalog edits. */
export const orderLines = sqliteTable(
  "order_lines",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id")
      .notNull()
      .references(() => orders.id),
    position: integer("position").notNull(),
    sku: text("sku").notNull(),
    variantId: text("variant_id").notNull(),
    productId: text("product_id").notNull(),
    title: text("title").notNull(),
    variantTitle: text("variant_title").notNull(),
    quantity: integer("quantity").notNull(),
    unitPrice: integer("unit_price").notNull(),
    discount: integer("discount").notNull(),
    tax: integer("tax").notNull(),
    total: integer("total").notNull(),
    /** Committed inventory reservation for the line; null for orders placed before it was recorded. */
    reservationId: text("reservation_id"),
  },
  (t) => [index("order_lines_order_idx").on(t.orderId, t.position)],
);

/** The provider payments that paid for an order. */
export const orderPayments = sqliteTable(
  "order_payments",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id")
      .notNull()
      .references(() => orders.id),
    provider: text("provider", { enum: ["stripe", "test"] }).notNull(),
    paymentId: text("payment_id").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    status: text("status").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("order_payments_payment_unique").on(t.provider, t.paymentId),
    index("order_payments_order_idx").on(t.orderId),
  ],
);

/**
 * Refunds against an order. A row is inserted `pending` before the provider is called, in a
 * statement that checks the refundable remainder, so concurrent refunds can never exceed it.
 */
export const orderRefunds = sqliteTable(
  "order_refunds",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id")
      .notNull()
      .references(() => orders.id),
    /** Caller's (or derived) key: the same key never refunds twice. */
    idempotencyKey: text("idempotency_key").notNull(),
    providerRefundId: text("provider_refund_id"),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
    reason: text("reason"),
    /** What the key was first used for (amount, currency, reason): a reuse for another refund is refused. */
    requestFingerprint: text("request_fingerprint"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("order_refunds_key_unique").on(t.orderId, t.idempotencyKey),
    uniqueIndex("order_refunds_provider_unique").on(t.providerRefundId),
    index("order_refunds_order_idx").on(t.orderId, t.createdAt),
  ],
);

/** Append-only audit of status and payment-status changes. */
export const orderStatusHistory = sqliteTable(
  "order_status_history",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id")
      .notNull()
      .references(() => orders.id),
    status: text("status").notNull(),
    note: text("note"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("order_status_history_order_idx").on(t.orderId, t.createdAt)],
);
