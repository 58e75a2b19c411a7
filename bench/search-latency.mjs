#!/usr/bin/env node
// Search latency by query type at one catalog size, on a persisted local state so the
// (slow) 100 000-product seed and index rebuild happen once and can be measured repeatedly:
//   node bench/search-latency.mjs --products 100000 --state /tmp/popcart-search-100k
// Seeds (db/seed.ts) and rebuilds the index only when the state is new (pending migrations
// always apply), then measures each
// query type sequentially (1 connection: service time, no queueing) and the mixed
// search/suggest scenarios with autocannon at 8 connections. Bounded: --requests per type.
import { access } from "node:fs/promises";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { seedProducts } from "../db/seed.ts";
import { migrateLocal, seedLocal } from "../scripts/lib/local-d1.mjs";
import { startServer } from "../scripts/lib/server.mjs";
import { catalogWords, ensureSearchIndex, searchPaths, suggestPaths, typo } from "./lib/search-queries.mjs";

const { values } = parseArgs({
  options: {
    products: { type: "string", default: "200" },
    state: { type: "string" },
    requests: { type: "string", default: "40" },
    duration: { type: "string", default: "8" },
  },
});
const products = Number(values.products);
const state = values.state ?? `/tmp/popcart-search-${products}`;
const exists = await access(`${state}/v3`).then(
  () => true,
  () => false,
);
// Pending migrations apply to a kept state too, so it always matches the code being measured.
await migrateLocal({ persistTo: state });
if (!exists) {
  console.error(`seeding ${products} products into ${state}`);
  await seedLocal({ persistTo: state, products });
}
// The result cache is off: this measures the engine (every request computed), not the cache.
const server = await startServer({
  port: 0,
  persist: state,
  quiet: true,
  envFile: ".dev.vars.example",
  vars: { SEARCH_CACHE_TTL: "0" },
});
const adminToken = /^ADMIN_TOKEN="?([^"\n]*)"?$/m.exec(
  await (await import("node:fs/promises")).readFile(".dev.vars.example", "utf8"),
)?.[1];
const productSlugs = [];
for (const item of seedProducts({ products }))
  if (item.product.status === "active") productSlugs.push(item.product.slug);
const ctx = {
  url: server.url,
  fetch: (path, init) => fetch(new URL(path, server.url), init),
  adminToken,
  catalog: {
    productSlugs,
    categorySlugs: ["apparel", "tops", "footwear", "sneakers", "bags", "home", "kitchen"],
  },
};
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (latencies) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50_ms: +pct(sorted, 50).toFixed(1),
    p95_ms: +pct(sorted, 95).toFixed(1),
    p99_ms: +pct(sorted, 99).toFixed(1),
  };
};

try {
  const index = await ensureSearchIndex(ctx);
  console.log(JSON.stringify({ products, ...index }));
  const words = catalogWords(ctx, 40);
  const types = {
    "search:word": (w) => `/api/search?q=${w}`,
    "search:two-words": (w, i) => `/api/search?q=${w}+${words[(i + 7) % words.length]}`,
    "search:prefix": (w) => `/api/search?q=${w.slice(0, 4)}`,
    "search:typo": (w) => `/api/search?q=${typo(w)}`,
    "search:facets+sort": (w, i) =>
      `/api/search?q=${w}&category=${ctx.catalog.categorySlugs[i % 7]}&sort=price_asc`,
    "search:browse-category": (_w, i) => `/api/search?category=${ctx.catalog.categorySlugs[i % 7]}`,
    "search:browse-all": () => "/api/search",
    "suggest:2-letters": (w) => `/api/search/suggest?q=${w.slice(0, 2)}`,
    "suggest:5-letters": (w) => `/api/search/suggest?q=${w.slice(0, 5)}`,
  };
  const n = Number(values.requests);
  for (const [name, build] of Object.entries(types)) {
    const latencies = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      const res = await ctx.fetch(build(words[i % words.length], i));
      const body = await res.json();
      latencies.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`);
      total += body.total ?? body.products?.length ?? 0;
    }
    console.log(
      JSON.stringify({
        products,
        type: name,
        connections: 1,
        ...summary(latencies),
        mean_hits: Math.round(total / n),
      }),
    );
  }
  for (const [name, paths] of [
    ["search", searchPaths(ctx)],
    ["search-suggest", suggestPaths(ctx)],
  ]) {
    let i = 0;
    const latencies = [];
    const result = await new Promise((resolve, reject) => {
      const instance = autocannon(
        {
          url: server.url.href,
          connections: 8,
          duration: Number(values.duration),
          requests: [{ setupRequest: (request) => ({ ...request, path: paths[i++ % paths.length] }) }],
        },
        (error, out) => (error ? reject(error) : resolve(out)),
      );
      instance.on("response", (_c, _s, _b, time) => latencies.push(time));
    });
    console.log(
      JSON.stringify({
        products,
        scenario: name,
        connections: 8,
        requests_per_s: +(result.requests.total / result.duration).toFixed(1),
        ...summary(latencies),
        non_2xx: result.non2xx,
        errors: result.errors,
      }),
    );
  }
} finally {
  await server.close();
}
