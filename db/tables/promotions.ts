import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const PROMOTION_TYPES = ["percentage", "fixed_amount"] as const;
export const REDEMPTION_STATUSES = ["held", "redeemed", "released"] as const;

/**
 * Promotion codes. `times_used` counts held + redeemed uses and only ever changes in the
 * same D1 batch as the redemption row it accounts for, so `times_used <= usage_limit` holds
 * under any number of concurrent checkouts (D1 executes each batch as one transaction).
 */
export const promotions = sqliteTable(
  "promotions",
  {
    id: text("id").primaryKey(),
    /** Upper-case; shoppers type codes case-insensitively. */
    code: text("code").notNull(),
    type: text("type", { enum: PROMOTION_TYPES }).notNull(),
    /** Percentage codes: basis points off the subtotal (1000 = 10 %). */
    percentageBp: integer("percentage_bp"),
    /** Fixed-amount codes: integer minor units off, only in `currency`. */
    amountOff: integer("amount_off"),
    /** Currency of `amount_off` and `minimum_subtotal`; null = any currency (percentage only). */
    currency: text("currency"),
    minimumSubtotal: integer("minimum_subtotal"),
    startsAt: integer("starts_at"),
    endsAt: integer("ends_at"),
    usageLimit: integer("usage_limit"),
    perCustomerLimit: integer("per_customer_limit"),
    timesUsed: integer("times_used").notNull().default(0),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("promotions_code_unique").on(t.code),
    index("promotions_created_idx").on(t.createdAt, t.id),
  ],
);

/**
 * One row per use of a code by a checkout. A checkout holds a use while its payment is open;
 * success turns the hold into a redemption, failure releases it (and gives the use back).
 */
export const promotionRedemptions = sqliteTable(
  "promotion_redemptions",
  {
    id: text("id").primaryKey(),
    promotionId: text("promotion_id")
      .notNull()
      .references(() => promotions.id),
    checkoutId: text("checkout_id").notNull(),
    /** Lower-cased customer email, for the per-customer limit. */
    email: text("email").notNull(),
    status: text("status", { enum: REDEMPTION_STATUSES }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // At most one live use of a code per checkout; a released row does not block a new hold.
    uniqueIndex("promotion_redemptions_live_unique")
      .on(t.promotionId, t.checkoutId)
      .where(sql`status IN ('held', 'redeemed')`),
    index("promotion_redemptions_customer_idx").on(t.promotionId, t.email, t.status),
    index("promotion_redemptions_checkout_idx").on(t.checkoutId, t.status),
  ],
);
