import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sweepOutbox } from "../workers/events/outbox";
import type { OrderDraft } from "../workers/orders/schemas";
import { placeOrder } from "../workers/orders/service";

// A checkout's completion places its order with `claimEvents`: the events are written already
// claimed and sent right after the batch, with no sent mark afterwards, because the completion
// re-runs (intent + alarm) until placeOrder returns. These tests hold that bargain to its terms.

const uid = () => crypto.randomUUID().replaceAll("-", "");

function draft(): OrderDraft {
  return {
    checkout_id: `chk_${uid()}`,
    cart_id: `cart_${uid()}`,
    email: `claims-${uid()}@example.com`,
    currency: "USD",
    lines: [
      {
        sku: "CLAIM-1",
        variant_id: "var_c",
        product_id: "prod_c",
        title: "Claimed thing",
        quantity: 1,
        unit_price: 2500,
        total: 2500,
      },
    ],
    subtotal: 2500,
    discount_total: 0,
    shipping_total: 0,
    tax_total: 0,
    total: 2500,
    tax_inclusive: false,
    shipping_method: { id: "standard", name: "Standard", amount: 0 },
    payment: { provider: "test", payment_id: `pay_${uid()}`, amount: 2500, status: "succeeded" },
    flags: [],
  };
}

function recordingQueue(fail = false) {
  const sent: { id: string; type: string }[] = [];
  const queue = {
    async send() {
      throw new Error("use sendBatch");
    },
    async sendBatch(messages: Iterable<MessageSendRequest>) {
      if (fail) throw new Error("queue unavailable");
      for (const message of messages) sent.push(message.body as { id: string; type: string });
    },
  } as unknown as Queue;
  return { queue, sent };
}

async function outboxRows(orderId: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, type, sent_at, send_attempts FROM outbox WHERE aggregate_id = ?1 ORDER BY type DESC",
  )
    .bind(orderId)
    .all<{ id: string; type: string; sent_at: number | null; send_attempts: number }>();
  return results;
}

/** env.DB, except that every write to the outbox after the order's batch fails (D1 lost mid-run). */
function dbFailingOutboxUpdates(): D1Database {
  const db = env.DB;
  return {
    prepare: (query: string) => {
      if (/^update "outbox"/i.test(query.trim())) throw new Error("D1_ERROR: Network connection lost.");
      return db.prepare(query);
    },
    batch: (statements: D1PreparedStatement[]) => db.batch(statements),
    exec: (query: string) => db.exec(query),
    withSession: (constraint?: string) => db.withSession(constraint),
    dump: () => db.dump(),
  } as D1Database;
}

describe("order events claimed by a re-running writer", () => {
  it("sends both events once right after the batch and leaves nothing for the sweeper", async () => {
    const { queue, sent } = recordingQueue();
    const { order, created } = await placeOrder({ ...env, ORDER_EVENTS: queue }, draft(), {
      claimEvents: true,
    });
    expect(created).toBe(true);
    expect(sent.map((event) => event.type)).toEqual(["order.placed", "order.paid"]);
    const rows = await outboxRows(order.id);
    expect(rows.map((row) => [row.type, row.send_attempts])).toEqual([
      ["order.placed", 0],
      ["order.paid", 0],
    ]);
    for (const row of rows) expect(row.sent_at).not.toBeNull();
    const sweeper = recordingQueue();
    await sweepOutbox({ ...env, ORDER_EVENTS: sweeper.queue }, { minAgeMs: 0, limit: 1000 });
    expect(sweeper.sent.filter((event) => rows.some((row) => row.id === event.id))).toEqual([]);
  });

  it("hands the events to the sweeper when the queue refuses them, and the order still stands", async () => {
    const failing = recordingQueue(true);
    const { order, created } = await placeOrder({ ...env, ORDER_EVENTS: failing.queue }, draft(), {
      claimEvents: true,
    });
    expect(created).toBe(true);
    const rows = await outboxRows(order.id);
    expect(rows.map((row) => [row.sent_at, row.send_attempts])).toEqual([
      [null, 1],
      [null, 1],
    ]);
    const healthy = recordingQueue();
    await sweepOutbox({ ...env, ORDER_EVENTS: healthy.queue }, { minAgeMs: 0, limit: 1000 });
    expect(healthy.sent.filter((event) => rows.some((row) => row.id === event.id))).toHaveLength(2);
    for (const row of await outboxRows(order.id)) expect(row.sent_at).not.toBeNull();
  });

  it("throws when the events could neither be sent nor handed to the sweeper, so the writer re-runs", async () => {
    const failing = recordingQueue(true);
    const input = draft();
    await expect(
      placeOrder({ ...env, ORDER_EVENTS: failing.queue, DB: dbFailingOutboxUpdates() }, input, {
        claimEvents: true,
      }),
    ).rejects.toThrow(/Network connection lost/);
    // The re-run finds the order and sends its events: nothing was lost in between.
    const { queue, sent } = recordingQueue();
    const rerun = await placeOrder({ ...env, ORDER_EVENTS: queue }, input, { claimEvents: true });
    expect(rerun.created).toBe(false);
    expect(sent.map((event) => event.type).sort()).toEqual(["order.paid", "order.placed"]);
  });

  it("sends the events again on a re-run (the first run may have died before its send)", async () => {
    const input = draft();
    const first = recordingQueue();
    const { order } = await placeOrder({ ...env, ORDER_EVENTS: first.queue }, input, { claimEvents: true });
    const again = recordingQueue();
    const rerun = await placeOrder({ ...env, ORDER_EVENTS: again.queue }, input, { claimEvents: true });
    expect(rerun.created).toBe(false);
    expect(rerun.order.id).toBe(order.id);
    expect(again.sent.map((event) => event.id).sort()).toEqual(first.sent.map((event) => event.id).sort());
    expect(await outboxRows(order.id)).toHaveLength(2);
  });

  it("leaves events of a writer that does not re-run (no claim) to the sweeper until they are sent", async () => {
    const input = draft();
    const failing = recordingQueue(true);
    const { order } = await placeOrder({ ...env, ORDER_EVENTS: failing.queue }, input);
    for (const row of await outboxRows(order.id)) expect(row.sent_at).toBeNull();
    const replay = recordingQueue();
    expect((await placeOrder({ ...env, ORDER_EVENTS: replay.queue }, input)).created).toBe(false);
    expect(replay.sent).toEqual([]);
    const sweeper = recordingQueue();
    await sweepOutbox({ ...env, ORDER_EVENTS: sweeper.queue }, { minAgeMs: 0, limit: 1000 });
    expect(
      sweeper.sent.filter((event) => event.id.length > 0 && event.type.startsWith("order.")),
    ).not.toEqual([]);
    for (const row of await outboxRows(order.id)) expect(row.sent_at).not.toBeNull();
  });
});
