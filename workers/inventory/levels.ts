import { and, gt, gte, lt, sql } from "drizzle-orm";
import { database } from "../../db/client";
import { inventoryLevels } from "../../db/schema";

export interface SkuLevel {
  sku: string;
  on_hand: number;
  available: number;
  reserved: number;
  sold: number;
  shards: number;
  updated_at: string;
}

/**
 * SKUs from D1's reporting copy of the objects' counters (`inventory_levels`), summed over
 * shards, in SKU order. It trails the objects by the level-event throttle (about a second);
 * exact numbers come from `getInventory` per SKU. `active` keeps SKUs with units on hold.
 */
export async function listSkuLevels(
  env: Env,
  input: { prefix?: string; active?: boolean; after?: string; limit: number },
): Promise<SkuLevel[]> {
  const db = database(env.DB);
  const filters = [
    // A prefix as a key range (SKUs are ASCII): uses the primary key and needs no LIKE escaping.
    input.prefix ? gte(inventoryLevels.sku, input.prefix) : undefined,
    input.prefix ? lt(inventoryLevels.sku, `${input.prefix}\uffff`) : undefined,
    input.after ? gt(inventoryLevels.sku, input.after) : undefined,
  ];
  const reserved = sql<number>`sum(${inventoryLevels.reserved})`;
  const rows = await db
    .select({
      sku: inventoryLevels.sku,
      // The coordinator alone knows the SKU's total on-hand; shards only hold slices of it.
      onHand: sql<number>`coalesce(max(${inventoryLevels.skuOnHand}), sum(${inventoryLevels.onHand}))`,
      available: sql<number>`sum(${inventoryLevels.available})`,
      reserved,
      sold: sql<number>`sum(${inventoryLevels.sold})`,
      shards: sql<number>`count(*)`,
      updatedAt: sql<number>`max(${inventoryLevels.updatedAt})`,
    })
    .from(inventoryLevels)
    .where(and(...filters))
    .groupBy(inventoryLevels.sku)
    .having(input.active ? sql`${reserved} > 0` : undefined)
    .orderBy(inventoryLevels.sku)
    .limit(input.limit);
  return rows.map((r) => ({
    sku: r.sku,
    on_hand: r.onHand,
    available: r.available,
    reserved: r.reserved,
    sold: r.sold,
    shards: r.shards,
    updated_at: new Date(r.updatedAt).toISOString(),
  }));
}
