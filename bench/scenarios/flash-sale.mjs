// Flash sale: stock S on one hot SKU, far more concurrent buyers than S, for 1 shard and for
// several. Each buyer places one single-unit hold through the admin manual-hold route (the
// same reserve path carts use). Reports granted units (must equal S), oversold (must be 0),
// reservations/s, p50/p99 and the ratio to the empty route measured the same way.
import { defineScenario } from "../lib/scenario.mjs";

const percentile = (sorted, p) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const buyerAddress = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const round = (value, digits = 2) => (value == null ? null : Number(value.toFixed(digits)));

/** Runs `total` requests with at most `concurrency` in flight; returns per-request latencies. */
async function burst(total, concurrency, send) {
  const latencies = [];
  const statuses = new Map();
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const t0 = performance.now();
      const status = await send(i);
      latencies.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { seconds, latencies, statuses };
}

/**
 * One flash sale against a running Popcart at `baseUrl`.
 * @param {{ baseUrl: string | URL, adminToken: string, shards?: number, stock?: number, buyers?: number, concurrency?: number }} options
 */
export async function runFlashSale({
  baseUrl,
  adminToken,
  shards = 1,
  stock = 100,
  buyers = 2000,
  concurrency = 64,
}) {
  const url = (path) => new URL(path, baseUrl);
  const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const sku = `FLASH-${shards}-${Math.random().toString(36).slice(2, 10)}`;
  const put = async (path, body) => {
    const res = await fetch(url(path), { method: "PUT", headers: admin, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  };
  await put(`/admin/api/inventory/${sku}/sale`, {
    shards,
    reservation_ttl_seconds: 600,
    per_holder_limit: 1,
  });
  await put(`/admin/api/inventory/${sku}`, { on_hand: stock, reason: "flash sale" });

  const ceiling = await burst(buyers, concurrency, async () => {
    const res = await fetch(url("/__ping"));
    await res.arrayBuffer();
    return res.status;
  });
  const sale = await burst(buyers, concurrency, async (i) => {
    const res = await fetch(url(`/admin/api/inventory/${sku}/reservations`), {
      method: "POST",
      // Each buyer is its own client: the admin API's per-client rate limit must not be what
      // caps the crowd (a real sale arrives from as many addresses as shoppers).
      headers: { ...admin, "idempotency-key": `buyer-${i}`, "cf-connecting-ip": buyerAddress(i) },
      body: JSON.stringify({ holder: `buyer-${i}`, quantity: 1 }),
    });
    await res.arrayBuffer();
    return res.status;
  });
  const view = await (await fetch(url(`/admin/api/inventory/${sku}`), { headers: admin })).json();
  const granted = sale.statuses.get(201) ?? 0;
  const reservationsPerSecond = buyers / sale.seconds;
  return {
    scenario: "flash-sale",
    shards,
    stock,
    buyers,
    concurrency,
    granted,
    oversold: Math.max(0, granted - stock, view.reserved + view.sold - stock),
    stranded: view.available,
    ledger_matches: view.reserved === granted && view.on_hand === stock,
    refused: sale.statuses.get(409) ?? 0,
    errors: buyers - granted - (sale.statuses.get(409) ?? 0),
    reservations_per_s: round(reservationsPerSecond, 1),
    p50_ms: round(percentile(sale.latencies, 50)),
    p99_ms: round(percentile(sale.latencies, 99)),
    ceiling_per_s: round(buyers / ceiling.seconds, 1),
    ratio_to_ceiling: round(reservationsPerSecond / (buyers / ceiling.seconds), 3),
  };
}

/** Shard counts the bench compares; override with FLASH_SALE_SHARDS=1,4,8. */
const SHARD_COUNTS = (process.env.FLASH_SALE_SHARDS ?? "1,4").split(",").map(Number);

// The burst runs in `setup` (a sale is a fixed crowd, not a steady rate); the timed phase then
// measures what product pages do meanwhile: availability reads served from the snapshot.
export default defineScenario({
  name: "flash-sale",
  description: "S units, many concurrent buyers, 1 and N shards; then availability reads during the sale",
  async setup(ctx) {
    const runs = [];
    for (const shards of SHARD_COUNTS) {
      runs.push(await runFlashSale({ baseUrl: ctx.url, adminToken: ctx.adminToken, shards }));
    }
    return { runs };
  },
  requests: (ctx) => {
    const skus = ctx.catalog.skus.slice(0, 20).join(",") || "NONE";
    return () => ({ path: `/api/availability?skus=${skus}` });
  },
  summarize: (_ctx, state) => ({ flash_sales: state.runs }),
});
