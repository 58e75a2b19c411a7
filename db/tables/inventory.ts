import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Reporting copy of stock levels, one row per inventory object (SKU shard), fed by
 * `inventory.level` events off the reservation hot path. Sum the rows of a SKU for its
 * totals; `sku_on_hand` on the shard-0 row is the authoritative total. The objects are the
 * source of truth: this table lags them by the publish throttle plus queue delivery.
 */
export const inventoryLevels = sqliteTable(
  "inventory_levels",
  {
    sku: text("sku").notNull(),
    shard: integer("shard").notNull(),
    /** The object's monotonic change counter: upserts only ever move it forward. */
    levelVersion: integer("level_version").notNull(),
    onHand: integer("on_hand").notNull(),
    available: integer("available").notNull(),
    reserved: integer("reserved").notNull(),
    sold: integer("sold").notNull(),
    skuOnHand: integer("sku_on_hand"),
    /** Epoch milliseconds of the change, as stamped by the object. */
    occurredAt: integer("occurred_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sku, t.shard] })],
);
