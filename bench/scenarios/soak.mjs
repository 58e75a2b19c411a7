import { defineScenario, seededRandom, warmAll, zipf } from "../lib/scenario.mjs";
import { ensureSearchIndex, searchPaths } from "../lib/search-queries.mjs";
import { percentile, purchase, round } from "../lib/shopper.mjs";
import { workerdRssMiB } from "../lib/workerd-cpu.mjs";

const CONNECTIONS = 16;
const CURRENCIES = ["USD", "EUR", "GBP"];
/** SKUs the soak buys, restocked so they never sell out during a run. */
const SOAK_SKUS = 20;
const SOAK_STOCK = 1_000_000;

/**
 * The soak: `--soak-seconds` (default 300, the five minutes; `--soak-seconds 60` for a
 * quick one) of mixed traffic at 16 connections: 70 % catalog reads (product pages
 * and listing pages), 15 % searches, 15 % full purchases (create the whole cart, check out,
 * confirm; one operation). Reports per window (a minute, or a fifth of a shorter run)
 * operations/s, p99 and workerd's resident memory, and the last window against the first.
 */
export default defineScenario({
  name: "soak",
  // Five minutes of purchases wake thousands of cart objects; later scenarios would pay for them.
  last: true,
  description:
    "70 % catalog reads, 15 % searches, 15 % full purchases at 16 connections; per-minute ops/s, p99, RSS",
  async setup(ctx) {
    await ensureSearchIndex(ctx);
    const flash = ctx.catalog.flashSale.sku;
    const skus = ctx.catalog.skus.filter((sku) => sku !== flash).slice(0, SOAK_SKUS);
    const admin = { authorization: `Bearer ${ctx.adminToken}`, "content-type": "application/json" };
    for (const sku of skus) {
      const res = await ctx.fetch(`/admin/api/inventory/${sku}`, {
        method: "PUT",
        headers: admin,
        body: JSON.stringify({ on_hand: SOAK_STOCK, reason: "bench: soak" }),
      });
      if (!res.ok) throw new Error(`soak restock ${sku}: ${res.status} ${await res.text()}`);
    }
    // Steady state from the first window: every product and listing page read once.
    await warmAll(ctx, [
      ...ctx.catalog.productSlugs.flatMap((slug) =>
        CURRENCIES.map((c) => `/api/products/${slug}?currency=${c}`),
      ),
      ...ctx.catalog.categorySlugs.flatMap((slug) =>
        CURRENCIES.map((c) => `/api/products?category=${slug}&limit=24&currency=${c}`),
      ),
    ]);
    return { skus };
  },
  async run(ctx, { skus }) {
    const seconds = ctx.options.soakSeconds;
    const windowSeconds = seconds >= 120 ? 60 : Math.max(1, seconds / 5);
    const random = seededRandom(0x50a4);
    const product = zipf(ctx.catalog.productSlugs, 7);
    const category = zipf(ctx.catalog.categorySlugs, 11);
    const search = zipf(searchPaths(ctx), 13);
    // An unmeasured stretch of the same mix first (a fifth of the run, at most 30 s), so the first
    // window is not the one that fills the search cache and wakes the objects.
    const warmupMs = Math.min(30, seconds / 5) * 1000;
    const started = performance.now() + warmupMs;
    const deadline = started + seconds * 1000;
    const windows = [];
    const windowAt = (t) =>
      Math.min(Math.floor((t - started) / 1000 / windowSeconds), Math.ceil(seconds / windowSeconds) - 1);
    const record = (kind, ms, ok) => {
      if (performance.now() < started) return;
      const w = windowAt(performance.now());
      windows[w] ??= { ops: 0, latencies: [], purchases: 0, failures: 0 };
      windows[w].ops++;
      windows[w].latencies.push(ms);
      if (kind === "purchase") windows[w].purchases++;
      if (!ok) windows[w].failures++;
    };
    let shopper = 1_000_000;
    let http5xx = 0;
    const read = async (path) => {
      const res = await ctx.fetch(path);
      await res.arrayBuffer();
      if (res.status >= 500) http5xx++;
      return res.status < 400;
    };
    const rss = [];
    const sampler = setInterval(async () => {
      if (performance.now() >= started) rss[windowAt(performance.now())] = await workerdRssMiB();
    }, 5000);
    const worker = async () => {
      while (performance.now() < deadline) {
        const roll = random();
        const t0 = performance.now();
        if (roll < 0.7) {
          const currency = CURRENCIES[Math.floor(random() * CURRENCIES.length)];
          const ok = await read(
            random() < 0.6
              ? `/api/products/${product()}?currency=${currency}`
              : `/api/products?category=${category()}&limit=24&currency=${currency}`,
          );
          record("catalog", performance.now() - t0, ok);
        } else if (roll < 0.85) {
          const ok = await read(search());
          record("search", performance.now() - t0, ok);
        } else {
          const i = shopper++;
          const result = await purchase(ctx.fetch, { i, sku: skus[i % skus.length], tag: "soak" });
          http5xx += result.statuses.filter((s) => s >= 500).length;
          record("purchase", performance.now() - t0, result.outcome === "completed");
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    } finally {
      clearInterval(sampler);
    }
    const rssEnd = await workerdRssMiB();
    const perWindow = windows.map((w, i) => {
      const sorted = w.latencies.sort((a, b) => a - b);
      return {
        window: i + 1,
        ops_per_s: round(w.ops / windowSeconds, 1),
        purchases: w.purchases,
        failures: w.failures,
        p50_ms: round(percentile(sorted, 50)),
        p99_ms: round(percentile(sorted, 99)),
        workerd_rss_mib: rss[i] ?? null,
      };
    });
    const first = perWindow[0];
    const last = perWindow.at(-1);
    return {
      seconds,
      window_s: windowSeconds,
      connections: CONNECTIONS,
      operations: windows.reduce((sum, w) => sum + w.ops, 0),
      purchases: windows.reduce((sum, w) => sum + w.purchases, 0),
      failures: windows.reduce((sum, w) => sum + w.failures, 0),
      http_5xx: http5xx,
      windows: perWindow,
      last_over_first_ops: first && last ? round(last.ops_per_s / first.ops_per_s, 3) : null,
      last_over_first_p99: first && last ? round(last.p99_ms / first.p99_ms, 3) : null,
      workerd_rss_end_mib: rssEnd,
      empty_rps: ctx.ceilingRps === null ? null : round(ctx.ceilingRps, 1),
    };
  },
});
