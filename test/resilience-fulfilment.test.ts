import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createFulfilmentConsumer, type FulfilmentBindings } from "../workers/fulfilment/consumer";
import { advanceCircuitClock, circuitSnapshot, resetCircuitBreakers } from "../workers/lib/circuit-breaker";
import type { MetricsSink } from "../workers/lib/metrics";
import {
  newOrderId,
  paid,
  placed,
  receiverFetch,
  recordingNotifier,
  WEBHOOK_SECRET,
} from "./events-fixtures";
import { recordRetries } from "./helpers";

afterEach(() => resetCircuitBreakers());

const WAREHOUSE = "http://popcart.test/dev/3pl/orders";

function bindings(vars: Partial<FulfilmentBindings> = {}): FulfilmentBindings {
  return {
    DB: env.DB,
    DEAD_LETTERS: env.DEAD_LETTERS,
    FULFILMENT_WEBHOOK_URL: WAREHOUSE,
    FULFILMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    EVENT_MAX_ATTEMPTS: "6",
    ...vars,
  };
}

let sequence = 0;
/** One delivery of `events`, recording each retry's delay (which getQueueResult omits). */
async function run(
  consumer: ReturnType<typeof createFulfilmentConsumer>,
  fulfilmentEnv: FulfilmentBindings,
  events: unknown[],
  attempts = 1,
) {
  const batch = createMessageBatch<unknown>(
    "popcart-order-events",
    events.map((body) => ({ id: `resilience-${++sequence}`, timestamp: new Date(), attempts, body })),
  );
  const retries = recordRetries(batch);
  const ctx = createExecutionContext();
  await consumer(batch, fulfilmentEnv);
  return { delays: retries.map((r) => r.delaySeconds), result: await getQueueResult(batch, ctx) };
}

async function deliveries(orderId: string) {
  const { results } = await env.DB.prepare(
    "select attempt, ok, status_code, error from webhook_deliveries where order_id = ? order by created_at",
  )
    .bind(orderId)
    .all<{ attempt: number; ok: number; status_code: number | null; error: string | null }>();
  return results;
}

/** A warehouse that accepts the connection and never answers (until the caller aborts). */
const hangingWarehouse = (calls: string[]) =>
  ((input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(String(input));
    return new Promise<Response>((_, reject) => {
      init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
    });
  }) as typeof fetch;

/** A paid order ready for hand-off: its `order.placed` already applied. */
async function placedOrder(consumer: ReturnType<typeof createFulfilmentConsumer>, e: FulfilmentBindings) {
  const orderId = newOrderId();
  await run(consumer, e, [placed(orderId)]);
  return { orderId, paidEvent: paid(orderId) };
}

describe("fulfilment webhook behind a deadline and a circuit breaker", () => {
  it("cuts a hanging 3PL off at FULFILMENT_TIMEOUT_MS, logs the attempt and retries the event", async () => {
    const calls: string[] = [];
    const consumer = createFulfilmentConsumer({
      notifier: recordingNotifier(),
      fetchFn: hangingWarehouse(calls),
    });
    const e = bindings({ FULFILMENT_TIMEOUT_MS: "200" });
    const { orderId, paidEvent } = await placedOrder(consumer, e);

    const started = Date.now();
    const attempt = await run(consumer, e, [paidEvent]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(attempt.result.retryMessages).toHaveLength(1);
    expect(attempt.result.explicitAcks).toHaveLength(0);
    expect(attempt.delays).toEqual([2]);
    const [logged] = await deliveries(orderId);
    expect(logged).toMatchObject({ attempt: 1, ok: 0, status_code: null });
    expect(logged?.error).toMatch(/timed? ?out|abort/i);
  });

  it("stops calling a failing 3PL once its circuit opens, holds events back for the cool-down, and delivers them after a successful trial", async () => {
    const written: AnalyticsEngineDataPoint[] = [];
    const metrics: MetricsSink = { writeDataPoint: (point) => written.push(point) };
    const calls: { url: string; idempotencyKey: string | null; status: number }[] = [];
    let healthy = false;
    const failing = receiverFetch(calls, Number.POSITIVE_INFINITY);
    const working = receiverFetch(calls);
    const consumer = createFulfilmentConsumer({
      notifier: recordingNotifier(),
      fetchFn: ((input: RequestInfo | URL, init?: RequestInit) =>
        healthy ? working(input, init) : failing(input, init)) as typeof fetch,
    });
    const e = bindings({
      FULFILMENT_BREAKER_THRESHOLD: "2",
      FULFILMENT_BREAKER_COOLDOWN_MS: "1000",
      METRICS: metrics,
    });
    const first = await placedOrder(consumer, e);
    const second = await placedOrder(consumer, e);
    const held = await placedOrder(consumer, e);

    await run(consumer, e, [first.paidEvent]);
    await run(consumer, e, [second.paidEvent]);
    expect(calls.map((c) => c.status)).toEqual([503, 503]);
    expect(circuitSnapshot()["fulfilment:popcart.test"]?.state).toBe("open");

    // Open: the third hand-off is not sent, but logged and put back with at least the cool-down.
    const blocked = await run(consumer, e, [held.paidEvent]);
    expect(calls).toHaveLength(2);
    expect(blocked.result.retryMessages).toHaveLength(1);
    expect(blocked.delays[0]).toBeGreaterThanOrEqual(1);
    const [notSent] = await deliveries(held.orderId);
    expect(notSent).toMatchObject({ ok: 0, status_code: null });
    expect(notSent?.error).toMatch(/^not sent: circuit fulfilment:popcart\.test is open/);

    healthy = true;
    advanceCircuitClock(1_100);
    const delivered = await run(consumer, e, [held.paidEvent], 2);
    expect(delivered.result.explicitAcks).toHaveLength(1);
    expect(calls.at(-1)).toMatchObject({ status: 202, idempotencyKey: held.paidEvent.id });
    expect(circuitSnapshot()["fulfilment:popcart.test"]?.state).toBe("closed");
    expect((await deliveries(held.orderId)).map((d) => d.ok)).toEqual([0, 1]);

    // The earlier failures are still queued for retry, not lost: they go through now.
    for (const order of [first, second]) {
      expect((await run(consumer, e, [order.paidEvent], 2)).result.explicitAcks).toHaveLength(1);
    }
    const transitions = written
      .filter((point) => point.blobs?.[0] === "breaker")
      .map((point) => `${point.blobs?.[3]}>${point.blobs?.[2]}`);
    expect(transitions).toEqual(["closed>open", "open>half_open", "half_open>closed"]);
  });
});
