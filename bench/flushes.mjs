#!/usr/bin/env node
// `npm run bench:flushes [-- --shoppers 300] [--stock 100] [--drain-ms 5000]`
// Where a storm's disk flushes go. Serves the production bundle on a temporary state, runs a
// small warm-up storm, then one storm with `strace -f -e trace=fsync,fdatasync` attached to
// workerd, lets the queues drain for `--drain-ms`, and counts the flushes per storage: D1,
// each Durable Object class (its databases, its metadata such as alarms, and the files a new
// object creates), the rate-limit simulator. Every SQLite commit is a flush, and in workerd a
// flush blocks the thread every object and request shares, so this is the storm's disk bill,
// counted rather than timed: the count barely moves with the machine's load. Needs strace
// (Linux). Prints one JSON object.
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FLASH_SALE } from "../db/seed.ts";
import { seededBenchState, startBenchServer, stormContext } from "./lib/bench-server.mjs";
import { runStorm } from "./lib/storm.mjs";
import { workerdPids } from "./lib/workerd-cpu.mjs";

const { values } = parseArgs({
  options: {
    shoppers: { type: "string", default: "300" },
    stock: { type: "string", default: "100" },
    "drain-ms": { type: "string", default: "5000" },
  },
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The storage a flushed file belongs to, from its path under the state directory. */
function storageOf(path) {
  if (path.includes("RateLimiterObject")) return "rate-limit simulator";
  const d1 = /\/d1\//.test(path);
  if (d1) return "D1";
  const object = /\/do\/[^/]*?-?([A-Za-z]+Object)(\/|$)/.exec(path);
  if (object) {
    const kind = path.endsWith("metadata.sqlite-wal")
      ? "metadata (alarms)"
      : /\.sqlite-wal$/.test(path)
        ? "commits"
        : "new objects (files, journals, directory)";
    return `${object[1]}: ${kind}`;
  }
  if (/\/kv\//.test(path)) return "KV";
  return "other";
}

const strace = await new Promise((resolve) => {
  const probe = spawn("strace", ["-V"], { stdio: "ignore" });
  probe.on("error", () => resolve(false));
  probe.on("exit", (code) => resolve(code === 0));
});
if (!strace) {
  console.error("bench:flushes needs strace (apt-get install strace)");
  process.exit(2);
}

const state = await seededBenchState({ prefix: "popcart-flushes", products: 50 });
const server = await startBenchServer({ state });
try {
  const ctx = await stormContext(server);
  const sku = FLASH_SALE.sku;
  await runStorm(ctx, { sku, shoppers: 30, stock: 10, path: "short", tag: "flushes-warm" });
  await sleep(Number(values["drain-ms"]));
  const log = join(state, "strace.log");
  const pids = await workerdPids();
  const tracer = spawn("strace", [
    "-f",
    "-y",
    "-e",
    "trace=fsync,fdatasync",
    "-o",
    log,
    ...pids.flatMap((pid) => ["-p", pid]),
  ]);
  await sleep(1000);
  const storm = await runStorm(ctx, {
    sku,
    shoppers: Number(values.shoppers),
    stock: Number(values.stock),
    path: "short",
    tag: "flushes",
  });
  await sleep(Number(values["drain-ms"]));
  tracer.kill("SIGINT");
  await new Promise((resolve) => tracer.on("exit", resolve));
  const flushes = new Map();
  let total = 0;
  for (const line of (await readFile(log, "utf8")).split("\n")) {
    const file = /f(?:data)?sync\(\d+<([^>]*)>/.exec(line)?.[1];
    if (!file) continue;
    // tmpfs flushes cost nothing: counted apart.
    const where = file.startsWith("/dev/shm/") ? `${storageOf(file)} (tmpfs)` : storageOf(file);
    flushes.set(where, (flushes.get(where) ?? 0) + 1);
    if (!file.startsWith("/dev/shm/")) total++;
  }
  const byStorage = Object.fromEntries([...flushes].sort((a, b) => b[1] - a[1]));
  console.log(
    JSON.stringify(
      {
        shoppers: storm.shoppers,
        orders: storm.orders,
        exact_sell_out: storm.exact_sell_out,
        disk_flushes: total,
        disk_flushes_per_order: storm.orders ? Number((total / storm.orders).toFixed(1)) : null,
        by_storage: byStorage,
      },
      null,
      1,
    ),
  );
} finally {
  await server.close();
  await rm(state, { recursive: true, force: true });
}
