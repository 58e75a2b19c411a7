import type { z } from "@hono/zod-openapi";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { InventorySchema } from "../../inventory/schemas";
import { SKU_PATTERN } from "../../inventory/types";
import type { AdminApi } from "../admin-api";
import type { ConsoleEnv } from "../context";
import { inventoryHub } from "../live-hub";
import { section } from "../page";

type InventoryView = z.infer<typeof InventorySchema>;

/** How often a viewer looks at the shared copy; the hub bounds the object calls behind it. */
const TICK_MS = 1000;
/**
 * A stream ends after this long and the browser's EventSource reconnects, which re-checks the
 * session: a revoked or expired session stops receiving numbers within this bound.
 */
const STREAM_LIFETIME_MS = 120_000;
const MAX_SKUS = 10;
const MAX_HOLDS = 100;

/** What a live view needs from the admin API's inventory view: counters, shards, current holds. */
async function loadLive(api: AdminApi, sku: string): Promise<string | null> {
  const result = await api.get<InventoryView>(`/inventory/${encodeURIComponent(sku)}`);
  if (!result.ok) return null;
  const v = result.data;
  return JSON.stringify({
    sku: v.sku,
    on_hand: v.on_hand,
    available: v.available,
    reserved: v.reserved,
    sold: v.sold,
    in_transit: v.in_transit,
    shard_count: v.shard_count,
    shards: v.shards,
    reservations: v.reservations.filter((r) => r.status === "held").slice(0, MAX_HOLDS),
  });
}

/**
 * `GET /admin/live?skus=A,B`: server-sent `inventory` events whenever a SKU's counters or holds
 * change. Every viewer in an isolate shares one load per SKU per second (`inventoryHub`), so a
 * hundred staff watching a drop cost the inventory object what one does.
 */
export const liveSection = new Hono<ConsoleEnv>().use("*", section("inventory:read")).get("/", (c) => {
  const skus = [...new Set((c.req.query("skus") ?? "").split(","))]
    .filter((s) => SKU_PATTERN.test(s))
    .slice(0, MAX_SKUS);
  if (skus.length === 0) return c.text("Name up to 10 SKUs: ?skus=A,B", 422);
  const api = c.get("api");
  c.header("cache-control", "no-store");
  return streamSSE(c, async (stream) => {
    const sent = new Map<string, string>();
    const endAt = Date.now() + STREAM_LIFETIME_MS;
    await stream.writeSSE({ event: "hello", data: JSON.stringify({ skus }), retry: 2000 });
    while (!stream.aborted && !stream.closed && Date.now() < endAt) {
      for (const sku of skus) {
        const json = await inventoryHub.read(sku, () => loadLive(api, sku));
        if (json !== null && sent.get(sku) !== json) {
          sent.set(sku, json);
          await stream.writeSSE({ event: "inventory", data: json });
        }
      }
      await stream.sleep(TICK_MS);
    }
  });
});
