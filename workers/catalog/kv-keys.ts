/**
 * KV key scheme and lifetimes of the catalog projections (namespace `CATALOG_KV`).
 *
 * - `catalog:v1:product:{slug}` → {@link ProductDocument}: one denormalised document per
 *   slug with every currency's prices, or a tombstone for a draft/archived/renamed slug so a
 *   404 is answered without touching D1.
 * - `catalog:v1:categories` → the category tree document.
 * - `catalog:v1:listing-gen:{scope}` → the listing generation of a scope (`_all`, or a category
 *   slug). Bumping it orphans every cached page of that scope in one write, which respects
 *   KV's ~1 write/s per key limit however many pages exist.
 * - `catalog:v1:listing:{scope}:{generation}:{query-hash}` → one listing page (items +
 *   next_cursor) for a normalised category/sort/currency/limit/cursor query; orphaned pages
 *   expire on their TTL. Brand and price-filtered queries are not projected (D1 + Cache API).
 * - `catalog:v1:last-good:…` → the last document written for a product slug, the category
 *   tree and each projected listing query (without generation), kept for
 *   {@link LAST_GOOD_TTL_SECONDS}. Read only when D1 fails or is slow and the live key is
 *   missing (README.md#degraded-modes): a possibly stale page beats an error page.
 *
 * Staleness window (what the README states): a catalog write commits to D1 first, so
 * anything that charges money and re-reads D1 is never stale. Catalog reads lag by the queue
 * delivery delay (batch timeout 1 s, usually a few seconds; retried with backoff on failure)
 * plus KV's global propagation (up to ~60 s outside the colo that wrote), plus at most
 * `CATALOG_CACHE_TTL` (60 s) in other colos' Cache API, whose entries the consumer can only
 * purge locally, plus the CDN/browser `max-age=30, stale-while-revalidate=60`. Typical: a few
 * seconds; worst case without failures ≈ 3.5 minutes. The event is committed in the same
 * D1 batch as the write (transactional outbox), so a failed inline send only adds the
 * outbox sweeper's delay (cron every minute, rows older than 30 s). As a last resort the
 * product document's own TTL ({@link PRODUCT_DOC_TTL_SECONDS}) bounds any drift to a day.
 */
export const KV_PREFIX = "catalog:v1";

export const productKey = (slug: string) => `${KV_PREFIX}:product:${slug}`;
export const CATEGORIES_KEY = `${KV_PREFIX}:categories`;
export const ALL_SCOPE = "_all";
export const listingGenerationKey = (scope: string) => `${KV_PREFIX}:listing-gen:${scope}`;
export const listingPageKey = (scope: string, generation: string, queryHash: string) =>
  `${KV_PREFIX}:listing:${scope}:${generation}:${queryHash}`;

export const lastGoodProductKey = (slug: string) => `${KV_PREFIX}:last-good:product:${slug}`;
export const LAST_GOOD_CATEGORIES_KEY = `${KV_PREFIX}:last-good:categories`;
export const lastGoodListingKey = (scope: string, queryHash: string) =>
  `${KV_PREFIX}:last-good:listing:${scope}:${queryHash}`;

/** Documents written by the consumer: a safety net that heals a lost event within a day. */
export const PRODUCT_DOC_TTL_SECONDS = 24 * 60 * 60;
/**
 * Documents repopulated by the read path after a KV miss. A reader that loaded D1 just
 * before a write could land its older document after the consumer's newer one (KV has no
 * compare-and-set), so such documents live briefly: the race heals within five minutes.
 */
export const READ_THROUGH_TTL_SECONDS = 5 * 60;
/** Listing pages are orphaned by generation bumps; the TTL only reclaims storage. */
export const LISTING_PAGE_TTL_SECONDS = 60 * 60;

/** Last-good copies outlive every live document: they only serve while D1 is unavailable. */
export const LAST_GOOD_TTL_SECONDS = 7 * 24 * 60 * 60;

/** Cache-Control for public catalog responses: short freshness, then revalidate in the background. */
export const PUBLIC_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60";
