import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Where a checkout lives. The cart object owns the checkout's state; this index lets
 * `GET /api/checkouts/{id}` find the cart object without the client naming the cart, and
 * records which payment belongs to the checkout.
 */
export const checkoutIndex = sqliteTable(
  "checkout_index",
  {
    id: text("id").primaryKey(),
    cartId: text("cart_id").notNull(),
    /**
     * The provider's payment id once the payment exists: a provider event is acted on only
     * when it names a payment Popcart created (see workers/checkout/service.ts).
     */
    paymentId: text("payment_id"),
    createdAt: integer("created_at").notNull(),
    /**
     * Set by the cart object once the checkout needs nothing more (completed, failed, expired).
     * The cron sweeper asks the cart object to finish every older checkout still without it.
     */
    settledAt: integer("settled_at"),
    /**
     * When the sweeper may ask again about a checkout it found still pending (a payment window
     * still open); null until first asked. Abandoned checkouts waiting out their window then
     * never keep a newer one out of the sweeper's per-tick batch.
     */
    nextSweepAt: integer("next_sweep_at"),
  },
  (t) => [
    index("checkout_index_cart_idx").on(t.cartId),
    index("checkout_index_unsettled_idx").on(t.settledAt, t.createdAt),
    index("checkout_index_sweep_idx").on(t.settledAt, t.nextSweepAt, t.createdAt),
  ],
);
