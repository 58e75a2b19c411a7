import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../db/client";
import worker from "../workers/edge/index";
import { newEvent } from "../workers/events/envelope";
import { outboxInsert, publishOutbox, sweepOutbox } from "../workers/events/outbox";
import { newId } from "../workers/lib/ids";
import { snapshot } from "./events-fixtures";

function recordingQueue(fail = false) {
  const sent: unknown[] = [];
  const queue = {
    async send(body: unknown) {
      if (fail) throw new Error("queue unavailable");
      sent.push(body);
    },
    async sendBatch(messages: Iterable<MessageSendRequest>) {
      if (fail) throw new Error("queue unavailable");
      for (const message of messages) sent.push(message.body);
    },
  } as unknown as Queue;
  return { queue, sent };
}

/** Writes an order event through the outbox, as a state change would, without publishing it. */
async function writeEvent(ageMs = 60_000) {
  const orderId = newId("ord");
  const event = newEvent(
    { type: "order.placed" as const, version: 1 as const, order_id: orderId, order: snapshot() },
    Date.now() - ageMs,
  );
  const db = database(env.DB);
  await db.batch([outboxInsert(db, "ORDER_EVENTS", event, orderId)]);
  return event;
}

async function sentAt(id: string) {
  const row = await env.DB.prepare("select sent_at, send_attempts from outbox where id = ?")
    .bind(id)
    .first<{ sent_at: number | null; send_attempts: number }>();
  return row;
}

describe("transactional outbox", () => {
  it("publishes an event right after its batch and marks it sent", async () => {
    const event = await writeEvent(0);
    const { queue, sent } = recordingQueue();
    await publishOutbox({ ...env, ORDER_EVENTS: queue }, [event.id]);
    expect(sent).toEqual([event]);
    expect((await sentAt(event.id))?.sent_at).not.toBeNull();
    // Publishing again is a no-op: the row is already sent.
    await publishOutbox({ ...env, ORDER_EVENTS: queue }, [event.id]);
    expect(sent).toHaveLength(1);
  });

  it("recovers an event written before a crash (never sent) with the sweeper", async () => {
    const event = await writeEvent();
    const failing = recordingQueue(true);
    await publishOutbox({ ...env, ORDER_EVENTS: failing.queue }, [event.id]);
    expect(await sentAt(event.id)).toEqual({ sent_at: null, send_attempts: 1 });

    const healthy = recordingQueue();
    const result = await sweepOutbox({ ...env, ORDER_EVENTS: healthy.queue });
    expect(result.sent).toBeGreaterThanOrEqual(1);
    expect(healthy.sent).toContainEqual(event);
    expect((await sentAt(event.id))?.sent_at).not.toBeNull();
  });

  it("sends and marks a backlog larger than one queue batch (D1 binds at most 100 parameters)", async () => {
    const events = [];
    for (let i = 0; i < 230; i++) events.push(await writeEvent());
    const { queue, sent } = recordingQueue();
    await sweepOutbox({ ...env, ORDER_EVENTS: queue }, { limit: 1000 });
    for (const event of events) expect(sent).toContainEqual(event);
    for (const event of events.slice(0, 5)) expect((await sentAt(event.id))?.sent_at).not.toBeNull();
    const ids = events.map((e) => e.id);
    const { queue: again, sent: resent } = recordingQueue();
    await publishOutbox({ ...env, ORDER_EVENTS: again }, ids);
    expect(resent).toHaveLength(0);
  });

  it("leaves young rows to the inline publish so the sweeper rarely duplicates", async () => {
    const event = await writeEvent(0);
    const { queue, sent } = recordingQueue();
    await sweepOutbox({ ...env, ORDER_EVENTS: queue });
    expect(sent).not.toContainEqual(event);
  });

  it("runs the sweeper from the worker's cron trigger", async () => {
    const event = await writeEvent();
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env);
    await waitOnExecutionContext(ctx);
    expect((await sentAt(event.id))?.sent_at).not.toBeNull();
  });
});
