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
  },
  (t) => [index("checkout_index_cart_idx").on(t.cartId)],
);
