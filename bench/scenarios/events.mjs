import { defineScenario } from "../lib/scenario.mjs";

// Events written per run: order.placed + fulfilment.fulfilling for EVENT_ORDERS orders.
const EVENT_ORDERS = Number(process.env.EVENT_ORDERS ?? 1000);
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const randomId = (prefix) => {
  let out = "";
  for (let i = 0; i < 20; i++) out += ALPHABET[Math.floor(Math.random() * 32)];
  return `${prefix}_${out}`;
};

function orderEvents(orderId, occurredAt) {
  const order = {
    order_number: `PC-B${orderId.slice(-6)}`,
    email: "bench@example.com",
    currency: "USD",
    total: 2500,
    lines: [{ sku: "BENCH-1", title: "Bench tee", quantity: 1, unit_price: 2500 }],
    shipping_address: null,
    shipping_method: null,
  };
  const base = { version: 1, occurred_at: occurredAt, order_id: orderId };
  return [
    { id: randomId("evt"), type: "order.placed", ...base, order },
    { id: randomId("evt"), type: "fulfilment.fulfilling", ...base, tracking: null },
  ];
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;

/**
 * The event pipeline under load: `setup` writes EVENT_ORDERS × 2 order events into the D1
 * outbox as unsent rows (what a crash after the write leaves behind) and starts the cron
 * sweeper; they flow outbox → ORDER_EVENTS queue → fulfilment worker's idempotent consumer
 * while the measured HTTP phase reads admin orders. `summarize` waits for the last event and
 * reports end-to-end events/s and the send → processed lag.
 */
export default defineScenario({
  name: "events",
  description:
    "outbox → queue → fulfilment consumer throughput (events/s) while the API serves admin order reads",
  async setup(ctx) {
    const db = await ctx.mf.getD1Database("DB");
    const createdAt = Date.now() - 60_000; // older than the sweeper's 30 s minimum age
    const occurredAt = new Date(createdAt).toISOString();
    const ids = [];
    const statements = [];
    for (let i = 0; i < EVENT_ORDERS; i++) {
      const orderId = randomId("ord");
      for (const event of orderEvents(orderId, occurredAt)) {
        ids.push(event.id);
        statements.push(
          db
            .prepare(
              "INSERT INTO outbox (id, queue, type, aggregate_id, payload, created_at, send_attempts) VALUES (?, 'ORDER_EVENTS', ?, ?, ?, ?, 0)",
            )
            .bind(event.id, event.type, orderId, JSON.stringify(event), createdAt),
        );
      }
    }
    for (let i = 0; i < statements.length; i += 200) await db.batch(statements.slice(i, i + 200));
    // By name: the Miniflare instance also runs the fulfilment worker.
    const worker = await ctx.mf.getWorker("popcart");
    const started = Date.now();
    // The cron sweeper sends at most 500 rows per run; keep it running until the outbox drains.
    const sweeping = (async () => {
      for (let round = 0; round < 100; round++) {
        await worker.scheduled({ cron: "* * * * *" });
        if (process.env.BENCH_DEBUG)
          console.error(
            outcome,
            await db.prepare("SELECT last_error, count(*) n FROM outbox GROUP BY 1").all(),
          );
        const left = await db.prepare("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL").first();
        if (left.n === 0) return;
      }
      throw new Error("outbox did not drain after 100 sweeps");
    })();
    return { db, ids, started, sweeping };
  },
  requests: (ctx) => {
    let n = 0;
    // A distinct client per request: the admin API is rate limited per client IP.
    return () => ({
      path: "/admin/api/orders?limit=20",
      headers: {
        authorization: `Bearer ${ctx.adminToken}`,
        "cf-connecting-ip": `10.9.${(n >> 8) & 255}.${n++ & 255}`,
      },
    });
  },
  async summarize(_ctx, state) {
    const { db, ids, started, sweeping } = state;
    await sweeping;
    const deadline = Date.now() + 120_000;
    let processed = 0;
    let finishedAt = Date.now();
    while (Date.now() < deadline) {
      const row = await db
        .prepare(
          "SELECT count(*) AS n, max(processed_at) AS last FROM processed_events WHERE consumer = 'fulfilment' AND event_id IN (SELECT id FROM outbox WHERE created_at = (SELECT created_at FROM outbox WHERE id = ?))",
        )
        .bind(ids[0])
        .first();
      processed = row.n;
      finishedAt = row.last ?? finishedAt;
      if (processed >= ids.length) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const lags = (
      await db
        .prepare(
          "SELECT p.processed_at - o.sent_at AS lag FROM processed_events p JOIN outbox o ON o.id = p.event_id WHERE p.consumer = 'fulfilment' AND o.created_at = (SELECT created_at FROM outbox WHERE id = ?) ORDER BY lag",
        )
        .bind(ids[0])
        .all()
    ).results.map((r) => r.lag);
    const seconds = Math.max(0.001, (finishedAt - started) / 1000);
    return {
      events: ids.length,
      events_processed: processed,
      events_lost: ids.length - processed,
      events_per_s: Math.round((processed / seconds) * 10) / 10,
      event_lag_p50_ms: percentile(lags, 50),
      event_lag_p99_ms: percentile(lags, 99),
    };
  },
});
