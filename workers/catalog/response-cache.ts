import { CURRENCY_CODES } from "../lib/money";
import { PUBLIC_CACHE_CONTROL } from "./kv-keys";

/**
 * Cache API layer in front of the KV projections. Entries live `CATALOG_CACHE_TTL` seconds;
 * listing entries are keyed by generation (a bump makes them unreachable everywhere), while
 * product entries are purged by the queue consumer — in its own colo only, since the Cache
 * API is per data centre, which is why their TTL is short.
 */
const CACHE_ORIGIN = "https://catalog-cache.popcart.internal";

export const productCacheKey = (slug: string, currency: string) =>
  `${CACHE_ORIGIN}/v1/products/${encodeURIComponent(slug)}?currency=${currency}`;
export const listingCacheKey = (kvKey: string) => `${CACHE_ORIGIN}/${encodeURIComponent(kvKey)}`;
/** A filtered listing query's last good page in this colo, served only while D1 is unavailable. */
export const lastGoodCacheKey = (scope: string, queryHash: string) =>
  `${CACHE_ORIGIN}/last-good/${encodeURIComponent(scope)}/${queryHash}`;
const LAST_GOOD_CACHE_SECONDS = 24 * 60 * 60;

const cacheTtl = (env: Env) => {
  const seconds = Number.parseInt(env.CATALOG_CACHE_TTL, 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 60;
};

/** True when `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for GET). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}

/** A JSON catalog response with its validators and CDN caching headers. */
export function catalogResponse(
  body: string,
  etag: string,
  ifNoneMatch: string | undefined,
  source: string,
): Response {
  const headers = new Headers({
    etag,
    "cache-control": PUBLIC_CACHE_CONTROL,
    "x-catalog-source": source,
  });
  // Varies by currency and cursor through the URL only; no header affects the body.
  if (etagMatches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers });
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(body, { status: 200, headers });
}

export interface CachedEntry {
  body: string;
  etag: string;
}

/**
 * Recently served entries also stay in this isolate, so a popular page costs no Cache API
 * lookup (and no body copy) per request: for `MEMORY_TTL_MS`, but never past the expiry of the
 * Cache API entry they were read from (`EXPIRES_HEADER`), so a reader sees nothing older than
 * `CATALOG_CACHE_TTL` allows, as without this layer. A purge or a store made by this isolate
 * applies to it at once; one made by another isolate of the colo reaches it within the TTL.
 * Thirty seconds keeps a page that is read every few seconds out of the Cache API almost
 * always (five seconds sent a catalog of 150 product pages back to it 30 times a second).
 * Bounded in bytes (least recently used out first), because an isolate's 128 MB is shared
 * with every object it hosts.
 */
const MEMORY_TTL_MS = 30_000;
/** For a Cache API entry without `EXPIRES_HEADER` (stored by an earlier release). */
const MEMORY_TTL_UNKNOWN_MS = 5_000;
const MEMORY_MAX_BYTES = 8 * 1024 * 1024;
const MEMORY_MAX_BODY = 64 * 1024;
/** When a stored Cache API entry expires (epoch ms), so the memory copy never outlives it. */
const EXPIRES_HEADER = "x-popcart-expires";

class RecentEntries {
  readonly #entries = new Map<string, { entry: CachedEntry; expiresAt: number }>();
  #bytes = 0;

  get(key: string, now: number): CachedEntry | null {
    const held = this.#entries.get(key);
    if (!held) return null;
    if (now >= held.expiresAt) {
      this.delete(key);
      return null;
    }
    // Re-insert: the Map's insertion order is the recency order.
    this.#entries.delete(key);
    this.#entries.set(key, held);
    return held.entry;
  }

  set(key: string, entry: CachedEntry, expiresAt: number): void {
    this.delete(key);
    if (entry.body.length > MEMORY_MAX_BODY) return;
    this.#entries.set(key, { entry, expiresAt });
    this.#bytes += entry.body.length;
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= MEMORY_MAX_BYTES) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const held = this.#entries.get(key);
    if (!held) return;
    this.#bytes -= held.entry.body.length;
    this.#entries.delete(key);
  }
}

const memory = new RecentEntries();

export async function readCached(key: string): Promise<CachedEntry | null> {
  const held = memory.get(key, Date.now());
  if (held) return held;
  const hit = await caches.default.match(key);
  if (!hit) return null;
  const etag = hit.headers.get("etag");
  if (!etag) return null;
  const entry = { body: await hit.text(), etag };
  const now = Date.now();
  const expires = Number(hit.headers.get(EXPIRES_HEADER));
  const until = Number.isFinite(expires) && expires > 0 ? expires : now + MEMORY_TTL_UNKNOWN_MS;
  memory.set(key, entry, Math.min(now + MEMORY_TTL_MS, until));
  return entry;
}

export function storeCached(env: Env, key: string, entry: CachedEntry): Promise<void> {
  const ttlSeconds = cacheTtl(env);
  memory.set(key, entry, Date.now() + Math.min(MEMORY_TTL_MS, ttlSeconds * 1000));
  return putCached(key, entry, ttlSeconds);
}

/** Keeps `entry` as the last good answer for `key` (a day; only read when D1 is unavailable). */
export function storeLastGoodCached(key: string, entry: CachedEntry): Promise<void> {
  return putCached(key, entry, LAST_GOOD_CACHE_SECONDS);
}

function putCached(key: string, entry: CachedEntry, maxAgeSeconds: number): Promise<void> {
  return caches.default.put(
    key,
    new Response(entry.body, {
      headers: {
        "content-type": "application/json; charset=utf-8",
        etag: entry.etag,
        "cache-control": `public, max-age=${maxAgeSeconds}`,
        [EXPIRES_HEADER]: String(Date.now() + maxAgeSeconds * 1000),
      },
    }),
  );
}

/** Drops this colo's cached product responses for `slugs` in every currency. */
export async function purgeProductResponses(slugs: Iterable<string>): Promise<void> {
  const deletions: Promise<boolean>[] = [];
  for (const slug of slugs) {
    for (const currency of CURRENCY_CODES) {
      memory.delete(productCacheKey(slug, currency));
      deletions.push(caches.default.delete(productCacheKey(slug, currency)));
    }
  }
  await Promise.all(deletions);
}
