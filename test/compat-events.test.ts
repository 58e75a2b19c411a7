import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CatalogChangedEventSchema } from "../workers/catalog/events";
import worker from "../workers/edge/index";
import {
  EVENT_VERSIONS,
  type EventType,
  judgeEventVersion,
  NEWER_EVENT_RETRY_SECONDS,
} from "../workers/events/versions";
import { createFulfilmentConsumer, type FulfilmentBindings } from "../workers/fulfilment/consumer";
import { InventoryLevelEventSchema } from "../workers/inventory/events";
import { OrderEventSchema } from "../workers/orders/events";
import { RELEASES } from "./compat-fixtures";
import { newOrderId, receiverFetch, recordingNotifier, WEBHOOK_SECRET } from "./events-fixtures";
import { eventually, recordRetries } from "./helpers";

const fulfilmentEnv: FulfilmentBindings = {
  DB: env.DB,
  DEAD_LETTERS: env.DEAD_LETTERS,
  FULFILMENT_WEBHOOK_URL: "http://popcart.test/dev/3pl/orders",
  FULFILMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  EVENT_MAX_ATTEMPTS: "3",
};

const QUEUE_OF: Record<string, string> = {
  catalog: "popcart-catalog-events",
  inventory: "popcart-inventory-events",
};

type Fixture = { type?: string; kind?: string; version?: number; order_id?: string } & Record<
  string,
  unknown
>;

const typed = (events: unknown[], prefixes: string[]) =>
  (events as Fixture[]).filter((event) => prefixes.some((prefix) => event.type?.startsWith(`${prefix}.`)));

/** A batch whose retries also record their delay, which getQueueResult leaves out. */
function batchOf(queue: string, bodies: unknown[], attempts = 1) {
  const tag = crypto.randomUUID().slice(0, 8);
  const batch = createMessageBatch<unknown>(
    queue,
    bodies.map((body, index) => ({ id: `${tag}-${index}`, timestamp: new Date(), attempts, body })),
  );
  const retries = recordRetries(batch);
  return { batch, retries };
}

/** Runs one delivery through the edge worker's real queue handler. */
async function deliver(queue: string, bodies: unknown[], attempts = 1) {
  const { batch, retries } = batchOf(queue, bodies, attempts);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { batch, retries, result: await getQueueResult(batch, ctx) };
}

async function deliverToFulfilment(bodies: unknown[], attempts = 1) {
  const consume = createFulfilmentConsumer({ notifier: recordingNotifier(), fetchFn: receiverFetch([]) });
  const { batch, retries } = batchOf("popcart-order-events", bodies, attempts);
  const ctx = createExecutionContext();
  await consume(batch, fulfilmentEnv);
  return { batch, retries, result: await getQueueResult(batch, ctx) };
}

const deadLetter = (eventId: string) =>
  eventually(() =>
    env.DB.prepare("SELECT consumer, error FROM dead_letters WHERE event_id = ?")
      .bind(eventId)
      .first<{ consumer: string; error: string }>(),
  );

const ORDER_TYPES = ["order", "fulfilment"];

describe.each(RELEASES)("events emitted by release $release", ({ events, manifest }) => {
  it("cover every event type the release declared", () => {
    const types = new Set((events as Fixture[]).map((event) => event.type));
    expect([...types].filter(Boolean).sort()).toEqual(
      expect.arrayContaining(Object.keys(manifest.event_versions)),
    );
  });

  it("are all applied by the current fulfilment consumer: acked, none retried, every effect recorded", async () => {
    const orderEvents = typed(events, ORDER_TYPES);
    const { batch, result } = await deliverToFulfilment(orderEvents);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());

    for (const orderId of new Set(orderEvents.map((event) => event.order_id as string))) {
      const mine = orderEvents.filter((event) => event.order_id === orderId);
      const row = await env.DB.prepare(
        "SELECT paid_at, handed_off_at, cancelled_at FROM fulfilment_orders WHERE order_id = ?",
      )
        .bind(orderId)
        .first<{ paid_at: number | null; handed_off_at: number | null; cancelled_at: number | null }>();
      const has = (type: string) => mine.some((event) => event.type === type);
      expect(row, `order ${orderId} was never placed`).not.toBeNull();
      expect(row?.paid_at !== null).toBe(has("order.paid"));
      expect(row?.handed_off_at !== null).toBe(has("order.paid"));
      expect(row?.cancelled_at !== null).toBe(has("order.cancelled"));
      const { results } = await env.DB.prepare(
        "SELECT kind FROM notifications WHERE order_id = ? ORDER BY kind",
      )
        .bind(orderId)
        .all<{ kind: string }>();
      const expected = mine.flatMap((event) => {
        if (event.type === "order.paid") return ["order_confirmation"];
        if (event.type === "order.cancelled") return ["order_cancelled"];
        if (event.type === "fulfilment.shipped") return ["order_shipped"];
        if (event.type === "fulfilment.delivered") return ["order_delivered"];
        if (event.type === "order.refunded") {
          return [`order_refunded:${(event.refund as { refund_id: string }).refund_id}`];
        }
        return [];
      });
      expect(results.map((r) => r.kind)).toEqual(expected.sort());
    }
  });

  it("inventory levels are upserted by the current inventory consumer", async () => {
    const levels = typed(events, ["inventory"]);
    const { batch, result } = await deliver(QUEUE_OF.inventory as string, levels);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    const newest = new Map<string, Fixture>();
    for (const level of levels) {
      const key = `${level.sku}#${level.shard}`;
      const held = (newest.get(key)?.level_version as number | undefined) ?? -1;
      if (held < (level.level_version as number)) {
        newest.set(key, level);
      }
    }
    for (const level of newest.values()) {
      const row = await env.DB.prepare(
        "SELECT level_version, available, sold FROM inventory_levels WHERE sku = ? AND shard = ?",
      )
        .bind(level.sku, level.shard)
        .first();
      expect(row).toEqual({
        level_version: level.level_version,
        available: level.available,
        sold: level.sold,
      });
    }
  });

  it("catalog changes are accepted by the current catalog consumer", async () => {
    const changes = typed(events, ["catalog"]);
    expect(changes.length).toBeGreaterThan(0);
    const { batch, result } = await deliver(QUEUE_OF.catalog as string, changes);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
  });

  it("dead-letter envelopes from its consumers are recorded with their reason", async () => {
    const envelopes = (events as Fixture[]).filter((event) => event.kind === "dead_letter");
    expect(envelopes.length).toBeGreaterThan(0);
    const { batch, result } = await deliver("popcart-dead-letters", envelopes);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    for (const message of batch.messages) {
      const row = await env.DB.prepare("SELECT consumer, error FROM dead_letters WHERE id = ?")
        .bind(`dl_${message.id}`)
        .first<{ consumer: string; error: string }>();
      const sent = message.body as { consumer: string; error: string };
      expect(row).toEqual({ consumer: sent.consumer, error: sent.error });
    }
  });
});

/** A fixture event of `type`, moved to `version` (what a newer or older producer would send). */
function atVersion(type: EventType, version: number, extra: Record<string, unknown> = {}): Fixture {
  const sample = RELEASES.flatMap((set) => set.events as Fixture[]).find((event) => event.type === type);
  if (!sample) throw new Error(`no ${type} fixture`);
  const id = `evt_${crypto
    .randomUUID()
    .replaceAll("-", "")
    .slice(0, 20)
    .replace(/[ilou]/g, "x")}`;
  return { ...sample, ...("id" in sample ? { id } : {}), version, ...extra };
}

describe("events from a version this consumer does not know", () => {
  it("retries an order event from a newer producer instead of acking and losing it, then dead-letters it with the reason", async () => {
    const newer = atVersion("order.placed", EVENT_VERSIONS["order.placed"].current + 1, {
      order_id: newOrderId(),
      channel: "pos",
    });
    const first = await deliverToFulfilment([newer]);
    expect(first.result.explicitAcks).toEqual([]);
    expect(first.result.retryMessages).toEqual([{ msgId: first.batch.messages[0]?.id }]);
    expect(first.retries).toEqual([
      { msgId: first.batch.messages[0]?.id, delaySeconds: NEWER_EVENT_RETRY_SECONDS },
    ]);
    const row = await env.DB.prepare("SELECT 1 FROM fulfilment_orders WHERE order_id = ?")
      .bind(newer.order_id)
      .first();
    expect(row).toBeNull();

    const last = await deliverToFulfilment([newer], 3);
    expect(last.result.explicitAcks).toHaveLength(1);
    const dead = await deadLetter(newer.id as string);
    expect(dead.consumer).toBe("fulfilment");
    expect(dead.error).toMatch(/order\.placed v2 is newer than this consumer/);
  });

  it("retries an event type this consumer does not know yet", async () => {
    const unknown = { ...atVersion("order.placed", 1), type: "order.gift_wrapped" };
    const { result } = await deliverToFulfilment([unknown]);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toEqual([]);
  });

  it("retries newer catalog and inventory events on the edge consumers too", async () => {
    const catalog = await deliver(QUEUE_OF.catalog as string, [atVersion("catalog.changed", 2)]);
    expect(catalog.result.retryMessages).toEqual([{ msgId: catalog.batch.messages[0]?.id }]);
    expect(catalog.retries).toEqual([
      { msgId: catalog.batch.messages[0]?.id, delaySeconds: NEWER_EVENT_RETRY_SECONDS },
    ]);
    const level = atVersion("inventory.level", 2, { sku: `COMPAT-NEWER-${crypto.randomUUID().slice(0, 8)}` });
    const inventory = await deliver(QUEUE_OF.inventory as string, [level]);
    expect(inventory.result.retryMessages).toEqual([{ msgId: inventory.batch.messages[0]?.id }]);
    expect(inventory.retries).toEqual([
      { msgId: inventory.batch.messages[0]?.id, delaySeconds: NEWER_EVENT_RETRY_SECONDS },
    ]);
    expect(inventory.result.explicitAcks).toEqual([]);
    const row = await env.DB.prepare("SELECT 1 FROM inventory_levels WHERE sku = ?")
      .bind(level.sku as string)
      .first();
    expect(row).toBeNull();
  });

  it("dead-letters a version older than any consumer still accepts, at once", async () => {
    const retired = atVersion("order.paid", EVENT_VERSIONS["order.paid"].oldest - 1);
    const { result } = await deliverToFulfilment([retired]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await deadLetter(retired.id as string)).error).toMatch(/order\.paid v0 is retired/);
  });

  it("leaves messages without a type and integer version to the schema", () => {
    expect(judgeEventVersion({ type: "order.paid" }, ["order.paid"])).toEqual({ action: "parse" });
    expect(judgeEventVersion("nope", ["order.paid"])).toEqual({ action: "parse" });
    expect(judgeEventVersion({ type: "order.paid", version: "2" }, ["order.paid"])).toEqual({
      action: "parse",
    });
  });
});

describe("the version registry", () => {
  const schemas: Record<string, { safeParse: (body: unknown) => { success: boolean } }> = {
    order: OrderEventSchema,
    fulfilment: OrderEventSchema,
    catalog: CatalogChangedEventSchema,
    inventory: InventoryLevelEventSchema,
  };

  it("matches the schemas: each accepts its type at `current`, not at `current + 1`", () => {
    for (const [type, range] of Object.entries(EVENT_VERSIONS)) {
      const schema = schemas[type.split(".")[0] as string];
      expect(schema?.safeParse(atVersion(type as EventType, range.current)).success, type).toBe(true);
      expect(schema?.safeParse(atVersion(type as EventType, range.current + 1)).success, type).toBe(false);
    }
  });
});
