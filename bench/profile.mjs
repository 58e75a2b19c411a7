#!/usr/bin/env node
// `npm run bench:profile [-- --path short|granular] [--shoppers 300] [--stock 100] [--top 25] [--state-parent /dev/shm] [--out FILE]`
// Where a purchase spends its time: serves the production bundle with workerd's inspector
// open, runs one storm (after a warm-up storm) under the V8 CPU profiler, and attributes every
// sample to the source module it ran in (the bundle keeps esbuild's `// path` markers), to
// one of a few concerns (middleware, validation, logging, D1 client, object code …), and to
// workerd itself (idle, GC, runtime). Prints one JSON object; `--out FILE` keeps the profile.
// `--analyse FILE --bundle FILE` attributes a kept profile again without running anything.
import { copyFile, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FLASH_SALE } from "../db/seed.ts";
import { seededBenchState, startBenchServer, stormContext } from "./lib/bench-server.mjs";
import { devtools } from "./lib/devtools.mjs";
import { runStorm } from "./lib/storm.mjs";

const { values } = parseArgs({
  options: {
    path: { type: "string", default: "short" },
    shoppers: { type: "string", default: "300" },
    stock: { type: "string", default: "100" },
    port: { type: "string", default: "0" },
    "inspector-port": { type: "string", default: "9341" },
    top: { type: "string", default: "25" },
    out: { type: "string" },
    analyse: { type: "string" },
    bundle: { type: "string" },
    // Where the temporary state lives, e.g. /dev/shm to take disk flushes out of the picture.
    "state-parent": { type: "string", default: tmpdir() },
  },
});

/** Which concern a bundled module belongs to. */
const CONCERNS = [
  [/node_modules\/hono\//, "hono (router, context, middleware plumbing)"],
  [/node_modules\/@hono\/zod-openapi|node_modules\/@asteasolutions/, "openapi registry/validation glue"],
  [/node_modules\/zod\//, "zod validation"],
  [/node_modules\/drizzle-orm\//, "drizzle query building"],
  [/node_modules\/stripe\//, "stripe sdk"],
  [/workers\/lib\/(request-logger|logging|metrics)/, "logging + metrics"],
  [
    /workers\/lib\/(request-id|version-headers|security-headers|server-timing|cors|body-limit|degraded|version-affinity|rate-limit)/,
    "edge middleware",
  ],
  [/workers\/lib\/(d1-guard|circuit|resilien|timeout|fallback)/, "D1 guard / circuit breaker"],
  [/durable-objects\/cart|workers\/cart\//, "cart object + cart domain"],
  [/durable-objects\/inventory|workers\/inventory\//, "inventory object + domain"],
  [/workers\/checkout\//, "checkout domain"],
  [/workers\/orders\/|workers\/events\//, "orders + outbox"],
  [/workers\/payments\//, "payments"],
  [/workers\/promotions\//, "promotions"],
  [/workers\//, "other app code"],
];

const concernOf = (module) => CONCERNS.find(([re]) => re.test(module))?.[1] ?? "other";

/** Which concern a workerd built-in (a sample outside the bundle) belongs to. */
const RUNTIME_CONCERNS = [
  [/^(exec|toArray|one|raw|next|transactionSync|sync)$/, "workerd: object SQLite (sql.exec, rows)"],
  [/^(setAlarm|getAlarm|deleteAlarm|set scheduledTime)$/, "workerd: object alarms"],
  [
    /^(json|text|arrayBuffer|Response|Request|Headers|fetch|URL|encode|decode|TextEncoder|TextDecoder)$/,
    "workerd: HTTP bodies, headers, URLs, subrequests",
  ],
  [/^d1-api$/, "D1 client (binding: statements, results to JSON)"],
  [
    /^(get|getByName|idFromName|send|sendBatch|limit)$/,
    "workerd: bindings (object stubs, queues, rate limits)",
  ],
  [/^(digest|importKey|sign|verify|getRandomValues|randomUUID)$/, "workerd: crypto"],
  [/^(enterSpan|setAttributes|tracing-helpers)$/, "workerd: tracing"],
  [/^\(idle\)$/, "workerd: (idle)"],
  [/^\(garbage collector\)$/, "workerd: (garbage collector)"],
  [/^\(program\)$/, "workerd: (program)"],
];
const runtimeConcernOf = (module) =>
  RUNTIME_CONCERNS.find(([re]) => re.test(module))?.[1] ?? `workerd: ${module}`;

/** Line → module map from esbuild's `// path/to/module.ts` markers in the bundle. */
async function moduleIndex(bundlePath) {
  const lines = (await readFile(bundlePath, "utf8")).split("\n");
  const starts = [];
  lines.forEach((line, i) => {
    // A worktree whose node_modules is a link to another checkout bundles them as `../x/node_modules/…`.
    const match = /^\/\/ (?:\.\.\/[^/\s]+\/)?((?:node_modules|workers|durable-objects|db)\/\S+)$/.exec(line);
    if (match) starts.push([i, match[1]]);
  });
  return (line) => {
    let low = 0;
    let high = starts.length - 1;
    let found = "(bundle prelude)";
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (starts[mid][0] <= line) {
        found = starts[mid][1];
        low = mid + 1;
      } else high = mid - 1;
    }
    return found;
  };
}

/**
 * Attributes every sample's self time to a function, its bundled module and a concern.
 * @param {{ nodes: any[], samples: number[], timeDeltas: number[] }} profile
 * @param {string} bundle the bundled entry the profile ran
 * @param {number} shoppers
 * @param {number} n rows per table
 */
async function analyse(profile, bundle, shoppers, n) {
  const moduleAt = await moduleIndex(bundle);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  profile.samples.forEach((nodeId, i) => {
    selfUs.set(nodeId, (selfUs.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byModule = new Map();
  const byConcern = new Map();
  const byFunction = new Map();
  let total = 0;
  let idle = 0;
  for (const [nodeId, us] of selfUs) {
    const { callFrame } = byId.get(nodeId);
    total += us;
    let module;
    if (!callFrame.url) module = callFrame.functionName || "(native)";
    else if (callFrame.url.endsWith("index.js")) module = moduleAt(callFrame.lineNumber);
    else module = callFrame.url.replace(/^.*[/:]/, "");
    const concern = callFrame.url?.endsWith("index.js") ? concernOf(module) : runtimeConcernOf(module);
    if (concern === "workerd: (idle)") idle += us;
    byModule.set(module, (byModule.get(module) ?? 0) + us);
    byConcern.set(concern, (byConcern.get(concern) ?? 0) + us);
    const fn = `${callFrame.functionName || "(anonymous)"} @ ${module}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const busy = total - idle;
  const top = (map, count) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 1000),
        // Share of the time the isolate was not idle, and milliseconds per shopper.
        share_busy: Number((us / busy).toFixed(3)),
        per_shopper_ms: Number((us / 1000 / shoppers).toFixed(3)),
      }));
  return {
    profiled_ms: Math.round(total / 1000),
    busy_ms: Math.round(busy / 1000),
    busy_per_shopper_ms: Number((busy / 1000 / shoppers).toFixed(2)),
    concerns: top(byConcern, 40),
    modules: top(byModule, n),
    functions: top(byFunction, n),
  };
}

if (values.analyse) {
  if (!values.bundle) throw new Error("--analyse needs --bundle (the index.js the profile ran)");
  const profile = JSON.parse(await readFile(values.analyse, "utf8"));
  const report = await analyse(profile, values.bundle, Number(values.shoppers), Number(values.top));
  console.log(JSON.stringify(report, null, 1));
  process.exit(0);
}

const state = await seededBenchState({
  prefix: "popcart-profile",
  products: 200,
  parent: values["state-parent"],
});
const inspectorPort = Number(values["inspector-port"]);
const server = await startBenchServer({ state, port: Number(values.port), inspectorPort });
try {
  const ctx = await stormContext(server);
  const sku = FLASH_SALE.sku;
  const path = values.path;
  await runStorm(ctx, { sku, shoppers: 30, stock: 10, path, tag: "profile-warm" });
  const inspector = await devtools(inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 500 });
  await inspector.send("Profiler.start");
  const storm = await runStorm(ctx, {
    sku,
    shoppers: Number(values.shoppers),
    stock: Number(values.stock),
    path,
    tag: "profile",
  });
  const { result } = await inspector.send("Profiler.stop");
  inspector.close();
  const profile = result.profile;
  if (values.out) await writeFile(values.out, JSON.stringify(profile));
  const bundle = join(state, "dist", "wrangler-toml", "index.js");
  if (values.out) await copyFile(bundle, `${values.out}.bundle.js`);
  const report = await analyse(profile, bundle, storm.shoppers, Number(values.top));
  console.log(JSON.stringify({ storm, ...report }, null, 1));
} finally {
  await server.close();
  await rm(state, { recursive: true, force: true });
}
