import { inventoryOf, percentile, purchase, round, stockSku } from "./shopper.mjs";
import { workerdCpuMs } from "./workerd-cpu.mjs";

/**
 * A flash-sale storm: `shoppers` arrive at once for `stock` units of `sku`, each from its own
 * client address, each through the whole purchase. Checks exact sell-out (units sold equal
 * the stock, orders equal the units, nothing oversold) and reports cost per purchase in units
 * of the same run's empty-route requests: wall_s × empty_rps ÷ shoppers.
 * @param {import("./scenario.mjs").BenchContext} ctx
 * @param {{ sku: string, shoppers: number, stock: number, path: "short" | "granular", tag: string }} options
 */
export async function runStorm(ctx, { sku, shoppers, stock, path, tag }) {
  const { sold: soldBefore } = await stockSku(ctx, sku, stock);
  const cpuBefore = await workerdCpuMs();
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: shoppers }, async (_, i) => {
      const t0 = performance.now();
      const result = await purchase(ctx.fetch, { i, sku, path, tag });
      return { ...result, ms: performance.now() - t0 };
    }),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuAfter = await workerdCpuMs();
  const cpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  const after = await inventoryOf(ctx, sku);
  const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
  const completed = results.filter((r) => r.outcome === "completed").length;
  const refusals = {};
  for (const r of results) if (r.outcome === "refused") refusals[r.code] = (refusals[r.code] ?? 0) + 1;
  const statuses = results.flatMap((r) => r.statuses);
  const sold = after.sold - soldBefore;
  const requests = statuses.length;
  const p50 = percentile(latencies, 50);
  const stepNames = [...new Set(results.flatMap((r) => Object.keys(r.steps)))];
  const steps = Object.fromEntries(
    stepNames.map((name) => {
      const ms = results
        .flatMap((r) => (r.steps[name] === undefined ? [] : [r.steps[name]]))
        .sort((a, b) => a - b);
      return [name, { n: ms.length, p50_ms: round(percentile(ms, 50)), p99_ms: round(percentile(ms, 99)) }];
    }),
  );
  const p99 = percentile(latencies, 99);
  return {
    path,
    shoppers,
    stock,
    wall_s: round(wallSeconds),
    orders: completed,
    orders_per_s: round(completed / wallSeconds, 1),
    shopper_p50_ms: round(p50),
    shopper_p99_ms: round(p99),
    p99_over_p50: round(p99 / p50),
    units_sold: sold,
    exact_sell_out: sold === stock && completed === stock && after.available === 0,
    oversold: Math.max(0, sold - stock, completed - stock),
    refusals,
    failed: results.filter((r) => r.outcome === "failed").map((r) => r.code),
    http_5xx: statuses.filter((s) => s >= 500).length,
    steps,
    requests,
    requests_per_purchase: completed === 0 ? null : results.find((r) => r.outcome === "completed").requests,
    empty_rps: ctx.ceilingRps === null ? null : round(ctx.ceilingRps, 1),
    cost_per_purchase: ctx.ceilingRps === null ? null : round((wallSeconds * ctx.ceilingRps) / shoppers, 1),
    workerd_cpu_ms: cpuMs === null ? null : Math.round(cpuMs),
    // The same cost measured in CPU rather than wall time: steadier on a shared machine.
    cpu_cost_per_purchase:
      cpuMs === null || !ctx.ceilingCpuMs ? null : round(cpuMs / shoppers / ctx.ceilingCpuMs, 1),
  };
}

/**
 * A storm scenario over one purchase path: a small unmeasured storm warms the code paths,
 * then `--shoppers` (default 300) arrive at once for `--stock` (default 100) units of the
 * flash-sale SKU.
 * @param {{ name: string, description: string, path: "short" | "granular" }} options
 * @returns {import("./scenario.mjs").Scenario}
 */
export function stormScenario({ name, description, path }) {
  return {
    name,
    description,
    async run(ctx) {
      const sku = ctx.catalog.flashSale.sku;
      await runStorm(ctx, { sku, shoppers: 30, stock: 10, path, tag: `${name}-warm` });
      const { shoppers, stock } = ctx.options;
      return runStorm(ctx, { sku, shoppers, stock, path, tag: name });
    },
  };
}
