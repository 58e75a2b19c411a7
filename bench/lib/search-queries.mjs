import { seededRandom } from "./scenario.mjs";

/**
 * Shared by the search and autocomplete scenarios: indexes the seeded catalog (the seed
 * writes D1 directly, so no catalog events fire) and derives a realistic query mix from the
 * seeded slugs, deterministically.
 */

/** Rebuilds the search index (resumable steps) unless it already holds the catalog; both scenarios call this. */
export async function ensureSearchIndex(ctx) {
  const probe = await ctx.fetch("/api/search?limit=1");
  const { total } = await probe.json();
  if (total >= ctx.catalog.productSlugs.length * 0.9) {
    const replicas_s = await syncSearchReplicas(ctx);
    return { indexed: total, rebuild_s: null, replicas_s };
  }
  const started = performance.now();
  let path = "/admin/api/search/reindex";
  let indexed = 0;
  for (;;) {
    const res = await ctx.fetch(path, {
      method: "POST",
      headers: { authorization: `Bearer ${ctx.adminToken}` },
    });
    if (!res.ok) throw new Error(`reindex failed: ${res.status} ${await res.text()}`);
    const step = await res.json();
    indexed += step.indexed;
    if (step.done) break;
    path = `/admin/api/search/reindex?cursor=${step.next_cursor}`;
  }
  const rebuild_s = Number(((performance.now() - started) / 1000).toFixed(1));
  return { indexed, rebuild_s, replicas_s: await syncSearchReplicas(ctx) };
}

/**
 * Catches every search replica up with D1's index before measuring (searches fall back to D1
 * while a replica has a backlog). Returns the seconds it took.
 */
async function syncSearchReplicas(ctx) {
  const started = performance.now();
  for (;;) {
    const res = await ctx.fetch("/admin/api/search/replicas/sync", {
      method: "POST",
      headers: { authorization: `Bearer ${ctx.adminToken}` },
    });
    if (!res.ok) throw new Error(`replica sync failed: ${res.status} ${await res.text()}`);
    if ((await res.json()).caught_up) break;
  }
  return Number(((performance.now() - started) / 1000).toFixed(1));
}

/** Words of the seeded slugs, most frequent first (numbers and one-letter words dropped). */
export function catalogWords(ctx, limit = 200) {
  const counts = new Map();
  for (const slug of ctx.catalog.productSlugs.slice(0, 5000)) {
    for (const word of slug.split("-")) {
      if (word.length < 3 || /\d/.test(word)) continue;
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([word]) => word);
}

/** Swaps two inner letters: the commonest typo, which the index corrects. */
export const typo = (word) =>
  word.length < 5 ? word : `${word.slice(0, 2)}${word[3]}${word[2]}${word.slice(4)}`;

/** Search requests: single words, pairs, prefixes, typos, facet filters, sorts and browsing. */
export function searchPaths(ctx) {
  const words = catalogWords(ctx, 60);
  const categories = ctx.catalog.categorySlugs;
  const paths = [];
  words.forEach((word, i) => {
    const next = words[(i + 7) % words.length];
    const category = categories[i % categories.length];
    paths.push(`/api/search?q=${word}`);
    paths.push(`/api/search?q=${word}+${next}`);
    paths.push(`/api/search?q=${word.slice(0, 4)}`);
    paths.push(`/api/search?q=${typo(word)}`);
    paths.push(`/api/search?q=${word}&category=${category}&sort=price_asc`);
    paths.push(`/api/search?q=${word}&availability=in_stock&min_price=1000&max_price=20000&currency=EUR`);
    if (i % 6 === 0) paths.push(`/api/search?category=${category}`);
  });
  return paths;
}

/** Autocomplete requests: what a shopper types, 2 to 6 letters of common words, pairs too. */
export function suggestPaths(ctx) {
  const words = catalogWords(ctx, 80);
  const paths = [];
  words.forEach((word, i) => {
    for (let n = 2; n <= Math.min(6, word.length); n++)
      paths.push(`/api/search/suggest?q=${word.slice(0, n)}`);
    paths.push(`/api/search/suggest?q=${words[(i + 3) % words.length]}+${word.slice(0, 3)}`);
  });
  return paths;
}

/**
 * Searches that never repeat within a run, so each one misses the result cache and measures
 * the engine: one common word (or none: browsing) × category × sort × availability, in a
 * fixed pseudo-random order.
 */
export function coldSearchPaths(ctx) {
  const words = ["", ...catalogWords(ctx, 60)];
  const categories = ["", ...ctx.catalog.categorySlugs];
  const paths = [];
  for (const word of words)
    for (const category of categories)
      for (const sort of ["relevance", "price_asc", "newest"])
        for (const availability of ["", "in_stock"]) {
          const params = new URLSearchParams({ sort });
          if (word) params.set("q", word);
          if (category) params.set("category", category);
          if (availability) params.set("availability", availability);
          paths.push(`/api/search?${params}`);
        }
  // Deterministic Fisher–Yates so runs are comparable.
  const random = seededRandom(0x9e3779b9);
  for (let i = paths.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [paths[i], paths[j]] = [paths[j], paths[i]];
  }
  return paths;
}
