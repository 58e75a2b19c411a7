import { z } from "@hono/zod-openapi";

/** KV key of one object's published availability (`#<n>` for shards other than the coordinator). */
export const availabilityKey = (sku: string, shard: number): string =>
  shard === 0 ? `inventory:availability:${sku}` : `inventory:availability:${sku}#${shard}`;

/**
 * What each inventory object writes to KV, at most once a second. The coordinator's record
 * carries `shard_count` so a reader knows which shard records to add up.
 */
export const PublishedAvailabilitySchema = z.object({
  sku: z.string(),
  shard: z.number().int().nonnegative(),
  shard_count: z.number().int().positive(),
  available: z.number().int(),
  version: z.number().int().nonnegative(),
  published_at: z.string(),
});
export type PublishedAvailability = z.infer<typeof PublishedAvailabilitySchema>;

/**
 * `inventory.level`: one object's counters after a change, sent on INVENTORY_EVENTS with the
 * same throttle as the KV snapshot. `level_version` only grows per object, so the D1 consumer
 * upserts with "newer wins" and duplicates or reordering change nothing.
 */
export const InventoryLevelEventSchema = z
  .object({
    type: z.literal("inventory.level"),
    version: z.literal(1),
    sku: z.string(),
    shard: z.number().int().nonnegative(),
    level_version: z.number().int().nonnegative(),
    on_hand: z.number().int(),
    available: z.number().int(),
    reserved: z.number().int(),
    sold: z.number().int(),
    /** The SKU's authoritative total; only the coordinator (shard 0) knows it. */
    sku_on_hand: z.number().int().nullable(),
    occurred_at: z.string(),
  })
  .openapi("InventoryLevelEvent");
export type InventoryLevelEvent = z.infer<typeof InventoryLevelEventSchema>;
