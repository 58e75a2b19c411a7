import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * Payments held by the built-in test provider (used when no Stripe key is configured).
 * It lives in D1 so that every isolate sees the same payment, exactly like a remote PSP.
 */
export const testPayments = sqliteTable(
  "test_payments",
  {
    id: text("id").primaryKey(),
    /** Caller's idempotency key: replaying a create returns this row instead of a new one. */
    idempotencyKey: text("idempotency_key").notNull(),
    checkoutId: text("checkout_id").notNull(),
    cartId: text("cart_id").notNull(),
    email: text("email"),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    status: text("status", {
      enum: ["requires_payment_method", "requires_action", "processing", "succeeded", "failed", "canceled"],
    }).notNull(),
    clientSecret: text("client_secret").notNull(),
    /** Card that started a 3-D-Secure-style challenge, so a second confirm completes it. */
    pendingCard: text("pending_card"),
    failureMessage: text("failure_message"),
    /** Event id of the last outcome, returned again when a terminal payment is re-confirmed. */
    lastEventId: text("last_event_id"),
    refundedAmount: integer("refunded_amount").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("test_payments_idempotency_key_unique").on(t.idempotencyKey),
    index("test_payments_checkout_idx").on(t.checkoutId),
  ],
);

/** Refunds issued by the test provider; the idempotency key makes a retried refund a no-op. */
export const testRefunds = sqliteTable(
  "test_refunds",
  {
    id: text("id").primaryKey(),
    paymentId: text("payment_id")
      .notNull()
      .references(() => testPayments.id),
    idempotencyKey: text("idempotency_key").notNull(),
    amount: integer("amount").notNull(),
    reason: text("reason"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("test_refunds_idempotency_key_unique").on(t.idempotencyKey),
    index("test_refunds_payment_idx").on(t.paymentId),
  ],
);

/**
 * Stripe webhook events claimed for processing, keyed by Stripe's event id. Stripe delivers
 * at least once (and sometimes concurrently): the claim makes each event apply once.
 */
export const stripeWebhookEvents = sqliteTable("stripe_webhook_events", {
  eventId: text("event_id").primaryKey(),
  type: text("type").notNull(),
  status: text("status", { enum: ["processing", "processed"] }).notNull(),
  /** When the current claim was taken; a stale `processing` claim may be taken over. */
  claimedAt: integer("claimed_at").notNull(),
  processedAt: integer("processed_at"),
});
