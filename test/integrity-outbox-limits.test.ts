import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../db/client";
import { newEvent } from "../workers/events/envelope";
import { outboxInsert, sweepOutbox } from "../workers/events/outbox";
import { newId } from "../workers/lib/ids";
import { snapshot } from "./events-fixtures";
import { ADMIN, call } from "./helpers";

const encoder = new TextEncoder();

/** A queue that refuses what Cloudflare Queues refuses: > 100 messages, > 256 KB a batch, > 128 KB a message. */
function limitedQueue() {
  const batches: number[] = [];
  const sent: { id: string }[] = [];
  const queue = {
    async send() {
      throw new Error("use sendBatch");
    },
    async sendBatch(messages: Iterable<MessageSendRequest>) {
      const list = [...messages];
      const sizes = list.map((m) => encoder.encode(JSON.stringify(m.body)).byteLength);
      if (list.length > 100) throw new Error("batch has more than 100 messages");
      if (sizes.some((size) => size > 128 * 1024)) throw new Error("message larger than 128 KB");
      if (sizes.reduce((a, b) => a + b, 0) > 256 * 1024) throw new Error("batch larger than 256 KB");
      batches.push(list.length);
      for (const m of list) sent.push(m.body as { id: string });
    },
  } as unknown as Queue;
  return { queue, batches, sent };
}

/** An order event of about `kb` kilobytes, written to the outbox a minute ago and never sent. */
async function writeLargeEvent(kb: number) {
  const orderId = newId("ord");
  const order = snapshot({
    lines: [{ sku: "BIG-1", title: "x".repeat(kb * 1024), quantity: 1, unit_price: 100 }],
  });
  const event = newEvent(
    { type: "order.placed" as const, version: 1 as const, order_id: orderId, order },
    Date.now() - 60_000,
  );
  const db = database(env.DB);
  await db.batch([outboxInsert(db, "ORDER_EVENTS", event, orderId)]);
  return event;
}

async function pending(ids: string[]) {
  const { results } = await env.DB.prepare(
    "SELECT id FROM outbox WHERE sent_at IS NULL AND id IN (SELECT value FROM json_each(?1))",
  )
    .bind(JSON.stringify(ids))
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

describe("outbox batches respect the queue's limits", () => {
  it("splits a backlog of large events into batches under 256 KB", async () => {
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await writeLargeEvent(100));
    const { queue, batches, sent } = limitedQueue();
    await sweepOutbox({ ...env, ORDER_EVENTS: queue });
    const ids = events.map((event) => event.id);
    expect(
      sent
        .map((body) => body.id)
        .filter((id) => ids.includes(id))
        .sort(),
    ).toEqual([...ids].sort());
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(await pending(ids)).toEqual([]);
  });

  it("dead-letters an event too large for any queue message with its reason, and sends the rest", async () => {
    const huge = await writeLargeEvent(200);
    const normal = [await writeLargeEvent(1), await writeLargeEvent(1)];
    const { queue, sent } = limitedQueue();
    await sweepOutbox({ ...env, ORDER_EVENTS: queue });
    const sentIds = sent.map((body) => body.id);
    for (const event of normal) expect(sentIds).toContain(event.id);
    expect(sentIds).not.toContain(huge.id);
    expect(await pending([huge.id])).toEqual([]);

    const res = await call("/admin/api/events/dead-letters?limit=100", { headers: ADMIN });
    const list = (await res.json()) as {
      data: { event_id: string | null; error: string; consumer: string }[];
    };
    expect(list.data.find((item) => item.event_id === huge.id)).toMatchObject({
      consumer: "outbox",
      error: expect.stringContaining("message limit"),
    });
  });
});
