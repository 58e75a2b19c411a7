import { sha256Hex } from "../lib/crypto";
import { log } from "../lib/logging";

/**
 * Search pages cached per data centre with the Cache API, keyed by the index generation:
 * every index write stamps a new generation in KV, so a cached page is never served once
 * the index it came from has changed (within KV's propagation, up to ~60 s in production;
 * immediate locally). `SEARCH_CACHE_TTL` bounds an entry's life either way.
 */
const CACHE_ORIGIN = "https://search-cache.popcart.internal";
export const GENERATION_KEY = "search:generation";
/** KV edge-cache time of the generation itself: its share of the staleness bound. */
const GENERATION_CACHE_TTL = 30;

const cacheTtl = (env: Env) => {
  const seconds = Number.parseInt(env.SEARCH_CACHE_TTL, 10);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : 60;
};

/**
 * Records that the index changed. A failed write (KV allows one write per second per key, so
 * a burst of index batches can be refused) only delays invalidation until the next write or
 * the entry's TTL, which is why it is logged and not thrown.
 */
export async function markSearchIndexChanged(env: Env): Promise<void> {
  try {
    await env.CATALOG_KV.put(GENERATION_KEY, `${Date.now().toString(36)}.${crypto.randomUUID().slice(0, 8)}`);
  } catch (error) {
    log("warn", "search_generation_write_failed", { error: String(error) });
  }
}

/**
 * Cache admission, "store on the second miss": keys that missed once recently, per isolate.
 * A search nobody repeats (most of the long tail) never costs a cache write; a repeated one is
 * stored on its second miss. Bounded; the oldest keys go first.
 */
const MISSED_ONCE_MAX = 10_000;
const missedOnce = new Set<string>();

function admit(key: string): boolean {
  if (missedOnce.delete(key)) return true;
  missedOnce.add(key);
  if (missedOnce.size > MISSED_ONCE_MAX) {
    const oldest = missedOnce.values().next().value;
    if (oldest !== undefined) missedOnce.delete(oldest);
  }
  return false;
}

export interface CachedSearch<T> {
  result: T;
  total: number;
  /** True when a text query found nothing: zero-result logging counts cache hits too. */
  zero: boolean;
}

/**
 * Answers from this colo's cache when the same search (same validated input) ran against the
 * current index generation; otherwise runs `compute` (given that generation) and, on the
 * key's second miss, stores its answer in the background.
 */
export async function cachedSearch<T>(
  env: Env,
  input: unknown,
  compute: (generation: string) => Promise<CachedSearch<T>>,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<CachedSearch<T> & { cache: "hit" | "miss" | "off" }> {
  const ttl = cacheTtl(env);
  // The generation also tells the search replicas when to pull index changes.
  const generation = (await env.CATALOG_KV.get(GENERATION_KEY, { cacheTtl: GENERATION_CACHE_TTL })) ?? "0";
  if (ttl === 0) return { ...(await compute(generation)), cache: "off" };
  const key = `${CACHE_ORIGIN}/v1/${encodeURIComponent(generation)}/${await sha256Hex(JSON.stringify(input))}`;
  const hit = await caches.default.match(key);
  if (hit) {
    return {
      result: (await hit.json()) as T,
      total: Number(hit.headers.get("x-search-total") ?? 0),
      zero: hit.headers.get("x-search-zero") === "1",
      cache: "hit",
    };
  }
  const fresh = await compute(generation);
  if (!admit(key)) return { ...fresh, cache: "miss" };
  waitUntil(
    caches.default.put(
      key,
      new Response(JSON.stringify(fresh.result), {
        headers: {
          "content-type": "application/json; charset=utf-8",
          "cache-control": `public, max-age=${ttl}`,
          "x-search-total": String(fresh.total),
          "x-search-zero": fresh.zero ? "1" : "0",
        },
      }),
    ),
  );
  return { ...fresh, cache: "miss" };
}
