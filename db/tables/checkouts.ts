import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Where a checkout lives. The cart object owns the checkout's state; this index only lets
 * `GET /api/checkouts/{id}` find the cart object without the client naming the cart.
 */
export const checkoutIndex = sqliteTable(
  "checkout_index",
  {
    id: text("id").primaryKey(),
    cartId: text("cart_id").notNull(),
    createdAt: integer("created_at").notNull(),
    /**
     * Set by the cart object once the checkout needs nothing more (completed, failed, expired).
     * The cron sweeper asks the cart object to finish every older checkout still without it.
     */
    settledAt: integer("settled_at"),
  },
  (t) => [
    index("checkout_index_cart_idx").on(t.cartId),
    index("checkout_index_unsettled_idx").on(t.settledAt, t.createdAt),
  ],
);
