// temporary profiling probe (not committed)

import { seedCategories, seedProducts } from "../db/seed.ts";
import { adminTokenFromExample, startBenchServer } from "./lib/bench-server.mjs";
import { coldSearchPaths } from "./lib/search-queries.mjs";

const productSlugs = [];
for (const item of seedProducts({ products: 100000 })) {
  if (item.product.status === "active") productSlugs.push(item.product.slug);
  if (productSlugs.length > 6000) break;
}
const ctx = { catalog: { productSlugs, categorySlugs: seedCategories().map((c) => c.slug) } };
const server = await startBenchServer({ state: ".wrangler/bench-100k", port: 0 });
const token = await adminTokenFromExample();
const f = (p, init) => fetch(new URL(p, server.url), init);
const t = performance.now();
for (;;) {
  const r = await (
    await f("/admin/api/search/replicas/sync", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    })
  ).json();
  if (r.caught_up) {
    console.log("sync", JSON.stringify(r.replicas));
    break;
  }
}
console.log("sync s", ((performance.now() - t) / 1000).toFixed(1));
const paths = coldSearchPaths(ctx).slice(0, Number(process.argv[2] ?? 40));
for (const p of paths) {
  const s = performance.now();
  const r = await f(p);
  await r.text();
  console.log(
    (performance.now() - s).toFixed(1),
    r.headers.get("x-search-cache"),
    r.headers.get("server-timing"),
    p,
  );
}
await server.close();
