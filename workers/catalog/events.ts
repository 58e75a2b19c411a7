import { z } from "@hono/zod-openapi";

/**
 * `catalog.changed`: published after a catalog write commits to D1. Consumers (KV
 * projections, search index, cache purge) re-read D1 for the current state, so the event
 * only names what changed; `revision` lets them ignore anything older than what they hold.
 */
export const CatalogChangedEventSchema = z
  .object({
    id: z.string().regex(/^evt_/),
    type: z.literal("catalog.changed"),
    version: z.literal(1),
    occurred_at: z.string().datetime(),
    entity: z.enum(["product", "category"]),
    entity_id: z.string(),
    /** Product revision after the write (categories: their updated_at). */
    revision: z.number().int().nonnegative(),
    change: z.enum(["created", "updated", "archived", "deleted"]),
    /** Slugs to purge, including a previous slug when it changed. */
    slugs: z.array(z.string()).default([]),
  })
  .openapi("CatalogChangedEvent");

export type CatalogChangedEvent = z.infer<typeof CatalogChangedEventSchema>;
