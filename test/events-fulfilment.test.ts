import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createFulfilmentConsumer, type FulfilmentBindings } from "../workers/fulfilment/consumer";
import {
  newOrderId,
  paid,
  placed,
  receiverFetch,
  recordingNotifier,
  WEBHOOK_SECRET,
} from "./events-fixtures";
import { ADMIN, call, eventually, recordRetries } from "./helpers";

const fulfilmentEnv: FulfilmentBindings = {
  DB: env.DB,
  DEAD_LETTERS: env.DEAD_LETTERS,
  FULFILMENT_WEBHOOK_URL: "http://popcart.test/dev/3pl/orders",
  FULFILMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  EVENT_MAX_ATTEMPTS: "3",
};

let sequence = 0;
function batchOf(events: unknown[], attempts = 1) {
  return createMessageBatch<unknown>(
    "popcart-order-events",
    events.map((body) => ({ id: `msg-${++sequence}`, timestamp: new Date(), attempts, body })),
  );
}

/** Runs one delivery of `events`; also records each retry's delay, which getQueueResult omits. */
async function run(consumer: ReturnType<typeof createFulfilmentConsumer>, events: unknown[], attempts = 1) {
  const batch = batchOf(events, attempts);
  const retries = recordRetries(batch);
  const ctx = createExecutionContext();
  await consumer(batch, fulfilmentEnv);
  return { batch, delays: retries.map((r) => r.delaySeconds), result: await getQueueResult(batch, ctx) };
}

async function deliveries(orderId: string) {
  const { results } = await env.DB.prepare(
    "select * from webhook_deliveries where order_id = ? order by created_at",
  )
    .bind(orderId)
    .all<{ ok: number; status_code: number | null; attempt: number }>();
  return results;
}

describe("fulfilment consumer", () => {
  it("hands a paid order to the warehouse once, however often the events are redelivered", async () => {
    const calls: { url: string; idempotencyKey: string | null; status: number }[] = [];
    const notifier = recordingNotifier();
    const consumer = createFulfilmentConsumer({ notifier, fetchFn: receiverFetch(calls) });
    const orderId = newOrderId();
    const placedEvent = placed(orderId);
    const paidEvent = paid(orderId);

    const first = await run(consumer, [placedEvent, paidEvent, paidEvent]);
    expect(first.result.explicitAcks).toHaveLength(3);
    await run(consumer, [paidEvent, placedEvent]);

    expect(calls).toHaveLength(1);
    expect(calls[0]?.status).toBe(202);
    expect(calls[0]?.idempotencyKey).toBe(paidEvent.id);
    expect(notifier.sent.filter((n) => n.kind === "order_confirmation")).toHaveLength(1);
    expect(await deliveries(orderId)).toHaveLength(1);
  });

  it("makes order.paid wait for order.placed instead of losing it", async () => {
    const calls: { url: string; idempotencyKey: string | null; status: number }[] = [];
    const consumer = createFulfilmentConsumer({
      notifier: recordingNotifier(),
      fetchFn: receiverFetch(calls),
    });
    const orderId = newOrderId();
    const paidEvent = paid(orderId);

    const early = await run(consumer, [paidEvent]);
    expect(early.result.retryMessages).toEqual([{ msgId: early.batch.messages[0]?.id }]);
    expect(early.delays).toEqual([5]);
    expect(calls).toHaveLength(0);

    await run(consumer, [placed(orderId)]);
    const retried = await run(consumer, [paidEvent], 2);
    expect(retried.result.explicitAcks).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });

  it("retries a failing warehouse with exponential backoff and logs every attempt", async () => {
    const calls: { url: string; idempotencyKey: string | null; status: number }[] = [];
    const consumer = createFulfilmentConsumer({
      notifier: recordingNotifier(),
      fetchFn: receiverFetch(calls, 2),
    });
    const orderId = newOrderId();
    await run(consumer, [placed(orderId)]);
    const paidEvent = paid(orderId);

    const attempt1 = await run(consumer, [paidEvent], 1);
    const attempt2 = await run(consumer, [paidEvent], 2);
    expect(attempt1.delays).toEqual([2]);
    expect(attempt2.delays).toEqual([4]);
    const attempt3 = await run(consumer, [paidEvent], 3);
    expect(attempt3.result.explicitAcks).toHaveLength(1);

    const log = await deliveries(orderId);
    expect(log.map((d) => [d.attempt, d.ok, d.status_code])).toEqual([
      [1, 0, 503],
      [2, 0, 503],
      [3, 1, 202],
    ]);
  });

  it("dead-letters a poison message with its reason while the rest of the batch succeeds", async () => {
    const calls: { url: string; idempotencyKey: string | null; status: number }[] = [];
    const consumer = createFulfilmentConsumer({
      notifier: recordingNotifier(),
      fetchFn: receiverFetch(calls),
    });
    const orderId = newOrderId();
    const poison = { id: "evt_notavalidid", type: "order.placed", version: 1, occurred_at: "yesterday" };
    const { batch, result } = await run(consumer, [placed(orderId), poison, paid(orderId)]);

    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    expect(result.retryMessages).toEqual([]);
    expect(calls).toHaveLength(1);

    const listed = await eventually(async () => {
      const res = await call("/admin/api/events/dead-letters?queue=ORDER_EVENTS&limit=100", {
        headers: ADMIN,
      });
      const body = (await res.json()) as {
        data: { event: { id?: string }; error: string; consumer: string }[];
      };
      return body.data.find((d) => d.event.id === "evt_notavalidid");
    });
    expect(listed.consumer).toBe("fulfilment");
    expect(listed.error).toMatch(/invalid event/);
  });

  it("dead-letters an event that keeps failing after the configured attempts", async () => {
    const consumer = createFulfilmentConsumer({
      notifier: recordingNotifier(),
      fetchFn: (async () => new Response("down", { status: 500 })) as typeof fetch,
    });
    const orderId = newOrderId();
    await run(consumer, [placed(orderId)]);
    const paidEvent = paid(orderId);

    const retry = await run(consumer, [paidEvent], 2);
    expect(retry.result.retryMessages).toHaveLength(1);
    const last = await run(consumer, [paidEvent], 3);
    expect(last.result.explicitAcks).toHaveLength(1);
    expect(last.result.retryMessages).toHaveLength(0);

    const dead = await eventually(async () =>
      env.DB.prepare("select error, attempts from dead_letters where event_id = ?")
        .bind(paidEvent.id)
        .first<{ error: string; attempts: number }>(),
    );
    expect(dead).toEqual({ error: "receiver answered 500", attempts: 3 });
  });

  it("replays a dead letter to its source queue, once unless forced", async () => {
    const orderId = newOrderId();
    const event = paid(orderId);
    await env.DEAD_LETTERS.send(
      {
        kind: "dead_letter",
        source_queue: "ORDER_EVENTS",
        consumer: "fulfilment",
        error: "boom",
        attempts: 3,
        failed_at: new Date().toISOString(),
        event,
      },
      { contentType: "json" },
    );
    const row = await eventually(async () =>
      env.DB.prepare("select id from dead_letters where event_id = ?").bind(event.id).first<{ id: string }>(),
    );

    const unauthorised = await call(`/admin/api/events/dead-letters/${row.id}/replay`, { method: "POST" });
    expect(unauthorised.status).toBe(401);

    const replayed = await call(`/admin/api/events/dead-letters/${row.id}/replay`, {
      method: "POST",
      headers: ADMIN,
    });
    expect(replayed.status).toBe(202);
    const body = (await replayed.json()) as { replay_count: number; replayed_at: string | null };
    expect(body.replay_count).toBe(1);
    expect(body.replayed_at).not.toBeNull();

    const again = await call(`/admin/api/events/dead-letters/${row.id}/replay`, {
      method: "POST",
      headers: ADMIN,
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe("already_replayed");

    const forced = await call(`/admin/api/events/dead-letters/${row.id}/replay`, {
      method: "POST",
      headers: { ...ADMIN, "content-type": "application/json" },
      body: JSON.stringify({ force: true }),
    });
    expect(forced.status).toBe(202);

    const missing = await call("/admin/api/events/dead-letters/dl_nope/replay", {
      method: "POST",
      headers: ADMIN,
    });
    expect(missing.status).toBe(404);
  });
});
