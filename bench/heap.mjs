#!/usr/bin/env node
// `npm run bench:heap [-- --carts 1000] [--skus 180] [--requests 3000]`
// How much JavaScript heap one cart object and one SKU (inventory) object hold, and whether
// the isolate's heap grows with traffic. Serves the production bundle with workerd's
// inspector open (every object of the worker shares its isolate locally, as objects of one
// class share isolates on Cloudflare), forces a GC, reads the heap, wakes N objects, forces
// a GC again (a heap snapshot: the only full collection workerd acknowledges) and divides.
// Prints one JSON line.
import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { seedProducts } from "../db/seed.ts";
import { adminTokenFromExample, seededBenchState, startBenchServer } from "./lib/bench-server.mjs";
import { devtools } from "./lib/devtools.mjs";
import { pool } from "./lib/shopper.mjs";
import { workerdRssMiB } from "./lib/workerd-cpu.mjs";

const { values } = parseArgs({
  options: {
    carts: { type: "string", default: "1000" },
    skus: { type: "string", default: "180" },
    requests: { type: "string", default: "3000" },
    "inspector-port": { type: "string", default: "9342" },
  },
});
const carts = Number(values.carts);
const skuCount = Number(values.skus);

const state = await seededBenchState({ prefix: "popcart-heap", products: 200 });
const inspectorPort = Number(values["inspector-port"]);
const server = await startBenchServer({ state, inspectorPort });
const kib = (bytes) => Math.round(bytes / 1024);
try {
  const fetchPath = (path, init) => fetch(new URL(path, server.url), init);
  const admin = { authorization: `Bearer ${await adminTokenFromExample()}` };
  const skus = [];
  for (const item of seedProducts({ products: 200 })) {
    if (item.product.status === "active") for (const v of item.variants) skus.push(v.sku);
  }
  const inspector = await devtools(inspectorPort);
  await inspector.send("HeapProfiler.enable");
  const heap = async () => {
    // workerd never answers HeapProfiler.collectGarbage, but a heap snapshot is taken after a
    // full collection: take one (its chunks are ignored), then read the heap's size.
    const snapshot = inspector.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const answered = await Promise.race([
      snapshot.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 120_000)),
    ]);
    if (!answered) throw new Error("workerd did not finish the heap snapshot");
    const { result } = await inspector.send("Runtime.getHeapUsage");
    return result.usedSize;
  };
  // Warm every code path once so compiled code and module state are in the baseline.
  const cartBody = (i) =>
    JSON.stringify({
      currency: "USD",
      email: `heap-${i}@example.com`,
      lines: [{ sku: skus[1], quantity: 1 }],
    });
  const newCart = async (i) => {
    const res = await fetchPath("/api/carts", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": `10.9.${i >> 8}.${i & 255}` },
      body: cartBody(i),
    });
    if (res.status !== 201) throw new Error(`cart ${i}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const wakeSku = async (sku) => {
    const res = await fetchPath(`/admin/api/inventory/${sku}`, { headers: admin });
    await res.arrayBuffer();
  };
  await pool([0, 1, 2, 3], 4, (i) => newCart(100_000 + i));
  await pool(skus.slice(-4), 4, wakeSku);

  const base = await heap();
  const rssBase = await workerdRssMiB();
  await pool(
    Array.from({ length: carts }, (_, i) => i),
    8,
    newCart,
  );
  const afterCarts = await heap();
  const rssCarts = await workerdRssMiB();
  await pool(skus.slice(0, skuCount), 8, wakeSku);
  const afterSkus = await heap();
  const rssSkus = await workerdRssMiB();

  // Traffic that creates no new objects: the heap should come back to where it was.
  const slugs = [...seedProducts({ products: 200 })].map((item) => item.product.slug);
  const reads = Array.from({ length: Number(values.requests) }, (_, i) =>
    i % 3 === 0
      ? `/api/search?q=${slugs[i % slugs.length].split("-")[0]}`
      : `/api/products/${slugs[i % slugs.length]}`,
  );
  await pool(reads, 16, async (path) => (await fetchPath(path)).arrayBuffer());
  const afterReads = await heap();
  await pool(reads, 16, async (path) => (await fetchPath(path)).arrayBuffer());
  const afterMoreReads = await heap();
  inspector.close();
  console.log(
    JSON.stringify({
      heap_base_kib: kib(base),
      carts,
      heap_per_cart_object_kib: Number(((afterCarts - base) / carts / 1024).toFixed(1)),
      // Native memory too (each live object keeps its SQLite database open): workerd RSS per object.
      rss_per_cart_object_kib: Math.round(((rssCarts - rssBase) * 1024) / carts),
      skus: skuCount,
      heap_per_sku_object_kib: Number(((afterSkus - afterCarts) / skuCount / 1024).toFixed(1)),
      rss_per_sku_object_kib: Math.round(((rssSkus - rssCarts) * 1024) / skuCount),
      read_requests: reads.length,
      heap_growth_first_reads_kib: kib(afterReads - afterSkus),
      heap_growth_second_reads_kib: kib(afterMoreReads - afterReads),
      workerd_rss_mib: await workerdRssMiB(),
    }),
  );
} finally {
  await server.close();
  await rm(state, { recursive: true, force: true });
}
