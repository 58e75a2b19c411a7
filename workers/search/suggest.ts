import { foldText, words } from "./text";

/** KV keys of the autocomplete index: one shard per two-letter word prefix, plus categories. */
export const SUGGEST_KEY_PREFIX = "search:suggest:v1:";
const CATEGORIES_KEY = `${SUGGEST_KEY_PREFIX}_categories`;
/** Entries kept per shard: enough for any longer prefix to still find its best matches. */
const SHARD_PRODUCTS = 1000;
const SHARD_QUERIES = 600;
/** Prefixes of at most this many characters are "popular" and answered from the Cache API. */
export const CACHED_PREFIX_LENGTH = 3;
export const SUGGEST_CACHE_SECONDS = 30;
/** Edge-cache lifetime of shard reads in KV (the minimum KV allows). */
const KV_CACHE_TTL = 60;
/** Parsed shards kept in isolate memory: a keystroke then costs no I/O and no JSON parse. */
const MEMORY_TTL_MS = 15_000;
const MEMORY_MAX_SHARDS = 128;
const memory = new Map<string, { at: number; value: unknown }>();

async function readShard<T>(env: Env, kvKey: string): Promise<T | null> {
  const now = Date.now();
  const held = memory.get(kvKey);
  if (held && now - held.at < MEMORY_TTL_MS) return held.value as T | null;
  const value = await env.CATALOG_KV.get<T>(kvKey, { type: "json", cacheTtl: KV_CACHE_TTL });
  memory.delete(kvKey);
  if (memory.size >= MEMORY_MAX_SHARDS) {
    // Maps iterate in insertion order, so the first key is the least recently loaded.
    const oldest = memory.keys().next().value;
    if (oldest !== undefined) memory.delete(oldest);
  }
  memory.set(kvKey, { at: now, value });
  return value;
}

/**
 * A shard: every suggestion whose word starts with the shard's two letters, best first.
 * Products: `[title, slug, folded words of title and brand, in_stock]`.
 */
interface SuggestShard {
  built_at: number;
  queries: [string, number][];
  products: [string, string, string, 0 | 1][];
}

/** All categories with their product counts: `[name, slug, folded name, count]`. */
interface CategoryShard {
  built_at: number;
  categories: [string, string, string, number][];
}

export interface Suggestions {
  q: string;
  queries: { text: string }[];
  products: { title: string; slug: string; in_stock: boolean }[];
  categories: { name: string; slug: string; product_count: number }[];
}

/** The shard a word belongs to: its first two characters; shorter words have none. */
export function shardKeyOf(word: string): string | null {
  const chars = Array.from(word);
  return chars.length >= 2 ? chars.slice(0, 2).join("") : null;
}

export function shardKeysOf(wordList: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const word of wordList) {
    const key = shardKeyOf(word);
    if (key) out.add(key);
  }
  return out;
}

// Sorts after every UTF-8 string that starts with the prefix (SQLite compares text bytewise).
const upperBound = (prefix: string) => `${prefix}\u{10FFFF}`;

async function buildShard(db: D1Database, key: string): Promise<SuggestShard> {
  const [queries, products] = await db.batch([
    db
      .prepare(
        "SELECT term, df FROM search_terms WHERE term >= ?1 AND term < ?2 ORDER BY df DESC, term LIMIT ?3",
      )
      .bind(key, upperBound(key), SHARD_QUERIES),
    // The key holds letters and digits only, so quoting it makes a safe FTS5 prefix query.
    db
      .prepare(
        `SELECT d.title, d.slug, d.brand, d.in_stock FROM search_fts f JOIN search_docs d ON d.doc_id = f.rowid
         WHERE search_fts MATCH ?1 ORDER BY d.in_stock DESC, d.popularity DESC, d.doc_id LIMIT ?2`,
      )
      .bind(`{title brand} : "${key}"*`, SHARD_PRODUCTS),
  ]);
  return {
    built_at: Date.now(),
    queries: ((queries?.results ?? []) as { term: string; df: number }[]).map((row) => [row.term, row.df]),
    products: (
      (products?.results ?? []) as { title: string; slug: string; brand: string; in_stock: number }[]
    ).map((row) => [row.title, row.slug, words(`${row.title} ${row.brand}`).join(" "), row.in_stock ? 1 : 0]),
  };
}

async function buildCategories(db: D1Database): Promise<CategoryShard> {
  const { results } = await db
    .prepare(
      `SELECT c.name, c.slug, count(f.doc_id) AS n FROM categories c
       LEFT JOIN search_doc_facets f ON f.facet = 'category' AND f.value = c.slug
       GROUP BY c.id HAVING n > 0 ORDER BY n DESC, c.name`,
    )
    .all<{ name: string; slug: string; n: number }>();
  return {
    built_at: Date.now(),
    categories: results.map((row) => [row.name, row.slug, words(row.name).join(" "), row.n]),
  };
}

const isSafeKey = (key: string) => /^[\p{L}\p{N}]+$/u.test(key) && key === foldText(key);

/**
 * Rebuilds the given shards from D1 (an FTS and a vocabulary query each: work done per catalog
 * change, never per keystroke) and writes them to KV. Empty shards are deleted.
 */
export async function refreshSuggestShards(
  env: Env,
  keys: Set<string>,
  options: { categories?: boolean } = { categories: true },
): Promise<number> {
  const list = [...keys].filter(isSafeKey);
  const writes: Promise<unknown>[] = [];
  // Bounded parallelism: each shard is a D1 batch plus a KV write.
  for (let i = 0; i < list.length; i += 8) {
    await Promise.all(
      list.slice(i, i + 8).map(async (key) => {
        const shard = await buildShard(env.DB, key);
        const kvKey = SUGGEST_KEY_PREFIX + key;
        const write =
          shard.queries.length === 0 && shard.products.length === 0
            ? env.CATALOG_KV.delete(kvKey)
            : env.CATALOG_KV.put(kvKey, JSON.stringify(shard));
        // Forget the parsed copy once the write lands: this isolate sees it at once, others
        // within MEMORY_TTL_MS.
        writes.push(write.then(() => memory.delete(kvKey)));
      }),
    );
  }
  if (options.categories !== false) {
    const categories = await buildCategories(env.DB);
    writes.push(
      env.CATALOG_KV.put(CATEGORIES_KEY, JSON.stringify(categories)).then(() =>
        memory.delete(CATEGORIES_KEY),
      ),
    );
  }
  await Promise.all(writes);
  return list.length;
}

/**
 * Rebuilds up to `limit` shards (one per two-letter prefix in the vocabulary) after `after`,
 * in key order, dropping orphaned shards in that range. `next` is null once all are done.
 */
export async function rebuildSuggestIndex(
  env: Env,
  after = "",
  limit = 64,
): Promise<{ built: number; next: string | null }> {
  const { results } = await env.DB.prepare(
    `SELECT DISTINCT substr(term, 1, 2) AS key FROM search_terms
     WHERE length(term) >= 2 AND substr(term, 1, 2) > ?1 ORDER BY key LIMIT ?2`,
  )
    .bind(after, limit + 1)
    .all<{ key: string }>();
  const batch = results.slice(0, limit).map((row) => row.key);
  const next = results.length > limit ? (batch[batch.length - 1] ?? null) : null;
  const keys = new Set(batch);
  const built = await refreshSuggestShards(env, keys, { categories: after === "" });
  const upper = next ?? "\u{10FFFF}";
  let cursor: string | undefined;
  do {
    const page = await env.CATALOG_KV.list({ prefix: SUGGEST_KEY_PREFIX, ...(cursor ? { cursor } : {}) });
    const orphans = page.keys
      .map((entry) => entry.name)
      .filter((name) => {
        const key = name.slice(SUGGEST_KEY_PREFIX.length);
        return name !== CATEGORIES_KEY && key > after && key <= upper && !keys.has(key);
      });
    await Promise.all(orphans.map((name) => env.CATALOG_KV.delete(name)));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return { built, next };
}

const startsAnyWord = (wordList: string[], prefix: string) =>
  wordList.some((word) => word.startsWith(prefix));

/**
 * Suggestions for a partly typed query, from the KV prefix index only (two reads, edge-cached
 * and held parsed in isolate memory):
 * the last word is a prefix, earlier words must each prefix some word of the suggestion.
 */
export async function suggestFromIndex(env: Env, q: string, limit: number): Promise<Suggestions> {
  const typed = words(q).slice(-6);
  const last = typed[typed.length - 1];
  const key = last ? shardKeyOf(last) : null;
  const empty: Suggestions = { q: typed.join(" "), queries: [], products: [], categories: [] };
  if (!last || !key) return empty;
  const earlier = typed.slice(0, -1);
  const [shard, categoryShard] = await Promise.all([
    readShard<SuggestShard>(env, SUGGEST_KEY_PREFIX + key),
    readShard<CategoryShard>(env, CATEGORIES_KEY),
  ]);
  const queries: { text: string }[] = [];
  const products: Suggestions["products"] = [];
  const categories: Suggestions["categories"] = [];
  const prefix = earlier.length > 0 ? `${earlier.join(" ")} ` : "";
  for (const [term] of shard?.queries ?? []) {
    if (queries.length >= limit) break;
    if (term.startsWith(last) && !earlier.includes(term)) queries.push({ text: prefix + term });
  }
  for (const [title, slug, folded, inStock] of shard?.products ?? []) {
    if (products.length >= limit) break;
    const list = folded.split(" ");
    if (startsAnyWord(list, last) && earlier.every((word) => startsAnyWord(list, word))) {
      products.push({ title, slug, in_stock: inStock === 1 });
    }
  }
  for (const [name, slug, folded, count] of categoryShard?.categories ?? []) {
    if (categories.length >= Math.min(limit, 4)) break;
    const list = folded.split(" ");
    if (startsAnyWord(list, last) && earlier.every((word) => startsAnyWord(list, word))) {
      categories.push({ name, slug, product_count: count });
    }
  }
  return { q: typed.join(" "), queries, products, categories };
}

/**
 * `suggestFromIndex` behind the Cache API for short ("popular") prefixes: every shopper types
 * those, so one KV read serves a colo for `SUGGEST_CACHE_SECONDS`. Longer prefixes are spread
 * thin and go straight to the (itself edge-cached) KV shard.
 */
export async function suggest(
  env: Env,
  q: string,
  limit: number,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<{ suggestions: Suggestions; cache: "hit" | "miss" | "bypass" }> {
  const normalised = words(q).join(" ");
  const cacheable = Array.from(normalised).length <= CACHED_PREFIX_LENGTH && normalised.length > 0;
  if (!cacheable) return { suggestions: await suggestFromIndex(env, q, limit), cache: "bypass" };
  const cacheKey = new Request(
    `https://search-suggest.popcart.internal/v1?q=${encodeURIComponent(normalised)}&limit=${limit}`,
  );
  const cache = caches.default;
  const hit = await cache.match(cacheKey);
  if (hit) return { suggestions: (await hit.json()) as Suggestions, cache: "hit" };
  const suggestions = await suggestFromIndex(env, q, limit);
  waitUntil(
    cache.put(
      cacheKey,
      new Response(JSON.stringify(suggestions), {
        headers: { "content-type": "application/json", "cache-control": `max-age=${SUGGEST_CACHE_SECONDS}` },
      }),
    ),
  );
  return { suggestions, cache: "miss" };
}
