#!/usr/bin/env node
// `npm run bench [-- --only product-by-slug] [--duration 6] [--connections 8] [--products 200] [--state DIR]
//   [--state-parent DIR] [--port 0] [--shoppers 300] [--stock 100] [--soak-seconds 300 (60 for a quick one)]]`
// Starts the production bundle on Miniflare over a fresh, seeded temporary state (or a kept
// one with --state: seeded once, reused, so a 100 000-product catalog is seeded once), then
// drives every scenario in bench/scenarios/ with autocannon on 127.0.0.1. Prints one JSON
// line per scenario and writes them to bench/results/.
//
// The temporary state lives on tmpfs (/dev/shm) where the machine has one: locally every
// storage commit is an fsync on the one thread all requests and objects share, so on disk the
// VM's fsync latency, not the code, sets the write-heavy scenarios' wall time. Production's
// storage does not block the isolate. `--state-parent DIR` puts it elsewhere (e.g. `/tmp` to
// measure on disk); `npm run bench:flushes` counts the flushes themselves.
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { FLASH_SALE, seedCategories, seedProducts, seedStockPlan } from "../db/seed.ts";
import { migrateLocal, seedLocal } from "../scripts/lib/local-d1.mjs";
import { tmpfsDir } from "../scripts/lib/ratelimit-tmpfs.mjs";
import { ROOT } from "../scripts/lib/wrangler.mjs";
import { adminTokenFromExample, startBenchServer } from "./lib/bench-server.mjs";
import { workerdCpuMs } from "./lib/workerd-cpu.mjs";

const CEILING = "empty";

const { values } = parseArgs({
  options: {
    only: { type: "string", multiple: true, default: [] },
    duration: { type: "string", default: "6" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "8" },
    products: { type: "string", default: "200" },
    state: { type: "string" },
    "state-parent": { type: "string" },
    port: { type: "string", default: "0" },
    shoppers: { type: "string", default: "300" },
    stock: { type: "string", default: "100" },
    "soak-seconds": { type: "string", default: "300" },
  },
});
const only = values.only.flatMap((name) => name.split(","));
const defaults = { duration: Number(values.duration), connections: Number(values.connections) };
const products = Number(values.products);

/** @returns {Promise<import("./lib/scenario.mjs").Scenario[]>} */
async function loadScenarios() {
  const dir = join(ROOT, "bench", "scenarios");
  const files = (await readdir(dir)).filter((file) => file.endsWith(".mjs")).sort();
  const scenarios = [];
  for (const file of files) scenarios.push((await import(pathToFileURL(join(dir, file)).href)).default);
  const unknown = only.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(", ")}`);
  // The ceiling always runs first so every ratio comes from the same run, and the scenarios that
  // only read right after it: locally every object a writing scenario wakes (thousands of carts
  // and SKUs) stays live in the one workerd process, and that slows every later request, the
  // ceiling's own included (`empty-end`). A ratio compares a scenario with the ceiling in the
  // same state of the runtime; on Cloudflare those objects live in other isolates.
  const wanted = scenarios.filter((s) => s.name === CEILING || only.length === 0 || only.includes(s.name));
  const rank = (s) => (s.name === CEILING ? 0 : s.readsOnly ? 1 : s.last ? 3 : 2);
  const ordered = wanted.sort((a, b) => rank(a) - rank(b));
  const ceiling = ordered.find((s) => s.name === CEILING);
  if (ceiling && ordered.some((s) => rank(s) === 2)) {
    ordered.push({
      ...ceiling,
      name: `${CEILING}-end`,
      description:
        "the ceiling again after every other scenario: its ratio is how much they slowed the runtime",
    });
  }
  return ordered;
}

/** @returns {import("./lib/scenario.mjs").BenchCatalog} */
function describeCatalog() {
  const productSlugs = [];
  const skus = [];
  for (const item of seedProducts({ products })) {
    if (item.product.status !== "active") continue;
    productSlugs.push(item.product.slug);
    for (const variant of item.variants) skus.push(variant.sku);
  }
  return {
    productSlugs,
    categorySlugs: seedCategories().map((category) => category.slug),
    skus,
    flashSale: FLASH_SALE,
    stockPlan: new Map(seedStockPlan({ products })),
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One autocannon run; latencies are recorded per response so p95 is exact. */
function drive(url, next, { duration, connections }) {
  const latencies = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: url.href,
        connections,
        duration,
        requests: [
          {
            setupRequest: (request) => {
              const { method = "GET", path, headers = {}, body } = next();
              return { ...request, method, path, headers: { ...request.headers, ...headers }, body };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve({ result, latencies })),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}

/**
 * Waits until the runtime is quiet: what earlier scenarios left running (queue consumers
 * applying their events, alarms) would otherwise be measured as this scenario's cost. On
 * Cloudflare that work runs in other isolates; here it shares the one thread. Quiet means
 * under 5 % of a core over half a second, for at most 20 s (off Linux: no wait).
 * @returns {Promise<number>} seconds waited
 */
async function settle() {
  const started = performance.now();
  for (;;) {
    const before = await workerdCpuMs();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await workerdCpuMs();
    const waited = (performance.now() - started) / 1000;
    if (before === null || after === null || after - before <= 25 || waited >= 20) return round(waited, 1);
  }
}

const round = (value, digits = 2) => (value == null ? null : Number(value.toFixed(digits)));

const scenarios = await loadScenarios();
const kept = values.state !== undefined;
const stateParent = values["state-parent"] ?? (await tmpfsDir()) ?? tmpdir();
const state = values.state ?? (await mkdtemp(join(stateParent, "popcart-bench-")));
// Where the storage commits land, printed with each crowd scenario's line (see the header).
const stateOn = (values.state ?? stateParent).startsWith("/dev/shm") ? "tmpfs" : "disk";
const seeded =
  kept &&
  (await access(join(state, "v3")).then(
    () => true,
    () => false,
  ));
const started = new Date();
await migrateLocal({ persistTo: state });
if (seeded) {
  console.error(`bench: reusing ${state}`);
} else {
  console.error(`bench: seeding ${products} products into ${state}`);
  await seedLocal({ persistTo: state, products });
}
const server = await startBenchServer({ state, port: Number(values.port) });
console.error(`bench: serving on ${server.url}`);

const ctx = {
  url: server.url,
  fetch: (path, init) => fetch(new URL(path, server.url), init),
  adminToken: await adminTokenFromExample(),
  catalog: describeCatalog(),
  mf: server.mf,
  options: {
    shoppers: Number(values.shoppers),
    stock: Number(values.stock),
    soakSeconds: Number(values["soak-seconds"]),
  },
  ceilingRps: null,
  ceilingCpuMs: null,
};

const lines = [];
let ceiling = null;
try {
  for (const scenario of scenarios) {
    const settings = {
      duration: scenario.duration ?? defaults.duration,
      connections: scenario.connections ?? defaults.connections,
    };
    const scenarioState = await scenario.setup?.(ctx);
    const settleSeconds = await settle();
    if (scenario.run) {
      // A crowd or a long mix drives the server itself and reports its own figures.
      const line = { scenario: scenario.name, ...(await scenario.run(ctx, scenarioState)) };
      line.settle_s = settleSeconds;
      line.empty_cpu_ms_per_request = ctx.ceilingCpuMs === null ? null : round(ctx.ceilingCpuMs, 3);
      line.state_on = stateOn;
      await scenario.teardown?.(ctx, scenarioState);
      console.log(JSON.stringify(line));
      lines.push(line);
      continue;
    }
    await drive(server.url, scenario.requests(ctx, scenarioState), {
      ...settings,
      duration: Number(values.warmup),
    });
    const cpuBefore = await workerdCpuMs();
    const { result, latencies } = await drive(server.url, scenario.requests(ctx, scenarioState), settings);
    const cpuAfter = await workerdCpuMs();
    const cpuMsPerRequest =
      cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / result.requests.total;
    latencies.sort((a, b) => a - b);
    const requestsPerSecond = result.requests.total / result.duration;
    if (scenario.name === CEILING) {
      ceiling = requestsPerSecond;
      ctx.ceilingRps = requestsPerSecond;
      ctx.ceilingCpuMs = cpuMsPerRequest;
    }
    const line = {
      scenario: scenario.name,
      requests_per_s: round(requestsPerSecond, 1),
      p50_ms: round(percentile(latencies, 50)),
      p95_ms: round(percentile(latencies, 95)),
      p99_ms: round(percentile(latencies, 99)),
      errors: result.errors + result.timeouts,
      non_2xx: result.non2xx,
      ratio_to_ceiling: ceiling ? round(requestsPerSecond / ceiling, 3) : null,
      requests: result.requests.total,
      workerd_cpu_ms_per_request: round(cpuMsPerRequest, 3),
      connections: settings.connections,
      duration_s: settings.duration,
      settle_s: settleSeconds,
      ...(await scenario.summarize?.(ctx, scenarioState)),
    };
    await scenario.teardown?.(ctx, scenarioState);
    console.log(JSON.stringify(line));
    lines.push(line);
  }
} finally {
  await server.close();
  if (!kept) await rm(state, { recursive: true, force: true });
}

const resultsDir = join(ROOT, "bench", "results");
await mkdir(resultsDir, { recursive: true });
const file = join(resultsDir, `${started.toISOString().replaceAll(":", "-")}.jsonl`);
await writeFile(file, `${lines.map((line) => JSON.stringify({ ...line, products })).join("\n")}\n`);
console.error(`bench: results written to ${file}`);
