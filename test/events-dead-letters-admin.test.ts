import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleCatalogEvents } from "../workers/catalog/consumer";
import { handleInventoryEvents } from "../workers/inventory/consumer";
import { newId } from "../workers/lib/ids";
import { ADMIN, call, expectProblem } from "./helpers";

async function insertDeadLetters(count: number, queue: string) {
  const base = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `dl_${newId("evt").slice(4)}`;
    ids.push(id);
    await env.DB.prepare(
      "insert into dead_letters (id, event_id, queue, consumer, type, payload, error, attempts, failed_at) values (?, ?, ?, 'test', 'order.paid', '{}', 'boom', 3, ?)",
    )
      .bind(id, null, queue, base - (i % 3)) // ties on failed_at exercise the keyset tiebreak
      .run();
  }
  return ids;
}

describe("admin dead-letter view", () => {
  it("pages through dead letters without duplicates or gaps", async () => {
    const ids = await insertDeadLetters(7, "CATALOG_EVENTS");
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs: string = `?queue=CATALOG_EVENTS&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await call(`/admin/api/events/dead-letters${qs}`, { headers: ADMIN });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: { id: string }[]; next_cursor: string | null };
      seen.push(...body.data.map((d) => d.id));
      cursor = body.next_cursor;
    } while (cursor);
    for (const id of ids) expect(seen.filter((s) => s === id)).toHaveLength(1);
  });

  it("refuses callers without a token or without the scope, and bad cursors", async () => {
    await expectProblem(await call("/admin/api/events/dead-letters"), 401, "unauthorized");
    await expectProblem(
      await call("/admin/api/events/dead-letters", { headers: { authorization: "Bearer wrong" } }),
      401,
      "unauthorized",
    );
    await expectProblem(
      await call("/admin/api/events/dead-letters?cursor=%%%garbage", { headers: ADMIN }),
      422,
      "validation_failed",
    );
    await expectProblem(
      await call("/admin/api/events/dead-letters?queue=NOPE", { headers: ADMIN }),
      422,
      "validation_failed",
    );
  });
});

describe("domain consumers share the dead-letter path", () => {
  it("dead-letters malformed catalog and inventory events with the reason instead of dropping them", async () => {
    const marker = `bogus-${crypto.randomUUID()}`;
    const catalogBatch = createMessageBatch<unknown>("popcart-catalog-events", [
      { id: `m-${marker}-c`, timestamp: new Date(), attempts: 1, body: { type: "catalog.changed", marker } },
    ]);
    const inventoryBatch = createMessageBatch<unknown>("popcart-inventory-events", [
      { id: `m-${marker}-i`, timestamp: new Date(), attempts: 1, body: { type: "inventory.level", marker } },
    ]);
    const ctx = createExecutionContext();
    await handleCatalogEvents(catalogBatch, env);
    await handleInventoryEvents(inventoryBatch, env);
    expect((await getQueueResult(catalogBatch, ctx)).explicitAcks).toEqual([`m-${marker}-c`]);

    const deadline = Date.now() + 5_000;
    let rows: { consumer: string; queue: string; error: string }[] = [];
    while (rows.length < 2 && Date.now() < deadline) {
      ({ results: rows } = await env.DB.prepare(
        "select consumer, queue, error from dead_letters where payload like ? order by consumer",
      )
        .bind(`%${marker}%`)
        .all<{ consumer: string; queue: string; error: string }>());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(rows.map((r) => [r.consumer, r.queue])).toEqual([
      ["catalog-projection", "CATALOG_EVENTS"],
      ["inventory-levels", "INVENTORY_EVENTS"],
    ]);
    for (const row of rows) expect(row.error).toMatch(/^invalid event/);
  });
});
