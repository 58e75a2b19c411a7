import { z } from "@hono/zod-openapi";
import { database } from "../../db/client";
import { BoundedMap } from "../lib/bounded-map";
import { sha256Hex } from "../lib/crypto";
import { readWithFallback } from "../lib/fallback-read";
import type { Currency } from "../lib/money";
import { ApiError } from "../lib/problem";
import { databaseSettings } from "../lib/resilience-settings";
import { decodeCursor, encodeCursor } from "../lib/schemas";
import { ALL_SCOPE, listingPageKey, READ_THROUGH_TTL_SECONDS } from "./kv-keys";
import {
  buildCategoryTree,
  buildProductDocument,
  type CategoryTreeDocument,
  type ListingPageDocument,
  type ProductDocument,
  productEtag,
  readCategoryTree,
  readLastGoodCategoryTree,
  readLastGoodListing,
  readLastGoodProduct,
  readListingGeneration,
  readListingPage,
  readProductDocument,
  renderProduct,
  writeCategoryTree,
  writeListingPage,
  writeProductDocument,
} from "./projections";
import { ancestorSlugs, categoryExists, loadCategories, loadProduct, queryListing, sortKey } from "./queries";
import { lastGoodCacheKey, readCached, storeLastGoodCached } from "./response-cache";
import type { ProductDetail, ProductList, ProductListQuery } from "./schemas";

/**
 * Where a read was answered from: KV projection, D1 after a KV miss, or (D1 failing or slow)
 * the last good copy (README.md#degraded-modes).
 */
export type ReadSource = "kv" | "d1" | "last-good";

/**
 * Builds the current projection of a product straight from D1 (the source of truth), as
 * published at `slug`. Null when no product has ever had that slug.
 */
export async function buildProductDocumentFromD1(
  env: Env,
  by: { id: string } | { slug: string },
): Promise<{ doc: ProductDocument; record: NonNullable<Awaited<ReturnType<typeof loadProduct>>> } | null> {
  const db = database(env.DB);
  const record = await loadProduct(db, by);
  if (!record) return null;
  const scopes = ancestorSlugs(
    await loadCategories(db),
    record.categories.map((c) => c.id),
  );
  return { doc: buildProductDocument(record, scopes), record };
}

/**
 * The product document for `slug`: KV first; on a miss, D1, then KV is repopulated (with a
 * short TTL, see {@link READ_THROUGH_TTL_SECONDS}). Unknown slugs are not cached, so random
 * probes cannot fill KV.
 */
export async function getProductDocument(
  env: Env,
  slug: string,
): Promise<{ doc: ProductDocument; source: ReadSource } | null> {
  const cached = await readProductDocument(env.CATALOG_KV, slug);
  if (cached) return { doc: cached, source: "kv" };
  const { value: doc, degraded } = await readWithFallback<ProductDocument | null>({
    primary: async () => (await buildProductDocumentFromD1(env, { slug }))?.doc ?? null,
    fallback: () => readLastGoodProduct(env.CATALOG_KV, slug),
    budgetMs: databaseSettings(env).readBudgetMs,
    fallbackName: "kv-last-good",
  });
  if (!doc) return null;
  if (degraded) return { doc, source: "last-good" };
  await writeProductDocument(env.CATALOG_KV, doc, READ_THROUGH_TTL_SECONDS, null);
  return { doc, source: "d1" };
}

/**
 * A visible (active) product by slug, priced in `currency`, with its ETag. Null for a slug
 * that is unknown, draft or archived. Prices may be briefly stale (see kv-keys.ts):
 * anything that charges money re-reads D1.
 */
export async function getProduct(
  env: Env,
  slug: string,
  currency: Currency,
): Promise<{ product: ProductDetail; etag: string; revision: number; source: ReadSource } | null> {
  const found = await getProductDocument(env, slug);
  const doc = found?.doc;
  if (!found || !doc?.visible) return null;
  return {
    product: renderProduct(doc, currency),
    etag: productEtag(doc, currency),
    revision: doc.revision,
    source: found.source,
  };
}

/** The category tree: KV first, D1 on a miss (repopulating KV), its last good copy if D1 fails. */
export async function getCategoryTree(env: Env): Promise<{ doc: CategoryTreeDocument; source: ReadSource }> {
  const cached = await readCategoryTree(env.CATALOG_KV);
  if (cached) return { doc: cached, source: "kv" };
  const { value: doc, degraded } = await readWithFallback({
    primary: async () => buildCategoryTree(await loadCategories(database(env.DB))),
    fallback: () => readLastGoodCategoryTree(env.CATALOG_KV),
    budgetMs: databaseSettings(env).readBudgetMs,
    fallbackName: "kv-last-good",
  });
  if (degraded) return { doc, source: "last-good" };
  await writeCategoryTree(env.CATALOG_KV, doc, READ_THROUGH_TTL_SECONDS);
  return { doc, source: "d1" };
}

const CursorSchema = z.object({
  s: z.string(),
  k: z.union([z.number().int(), z.string().max(400)]),
  i: z.string().max(64),
});

function invalidCursor(): ApiError {
  return new ApiError(422, "invalid_cursor", "Invalid cursor", {
    detail: "The cursor is malformed or belongs to a different sort.",
    errors: [{ path: "query.cursor", message: "invalid cursor for this sort" }],
  });
}

function parseCursor(query: ProductListQuery) {
  if (query.cursor === undefined) return undefined;
  const cursor = decodeCursor(query.cursor, CursorSchema);
  const wantsString = query.sort === "title";
  if (!cursor || cursor.s !== query.sort || (typeof cursor.k === "string") !== wantsString) {
    throw invalidCursor();
  }
  return { key: cursor.k, id: cursor.i };
}

/**
 * Where a listing page lives in KV: its scope, the scope's current generation, the hash of
 * the normalised query (the same in every generation) and the page key.
 */
export interface ListingLocation {
  scope: string;
  generation: string;
  queryHash: string;
  key: string;
}

/** Resolves the KV location of a listing query (one KV read: the scope's generation). */
/** Listing queries repeat: their key hashes are remembered (bounded) instead of re-digested. */
const queryHashes = new BoundedMap<string, string>(1024);

export async function locateListing(env: Env, query: ProductListQuery): Promise<ListingLocation> {
  parseCursor(query);
  const scope = query.category ?? ALL_SCOPE;
  const normalised = JSON.stringify([
    query.category ?? null,
    query.brand ?? null,
    query.currency,
    query.min_price ?? null,
    query.max_price ?? null,
    query.sort,
    query.limit,
    query.cursor ?? null,
  ]);
  const known = queryHashes.get(normalised);
  const [generation, queryHash] = await Promise.all([
    readListingGeneration(env.CATALOG_KV, scope),
    known ?? sha256Hex(normalised).then((hash) => hash.slice(0, 32)),
  ]);
  if (!known) queryHashes.set(normalised, queryHash);
  return { scope, generation, queryHash, key: listingPageKey(scope, generation, queryHash) };
}

/** Runs a listing query against D1 and shapes the page with its `next_cursor`. */
export async function listProductsFromD1(env: Env, query: ProductListQuery): Promise<ProductList> {
  const after = parseCursor(query);
  const db = database(env.DB);
  if (query.category !== undefined && !(await categoryExists(db, query.category))) {
    throw new ApiError(404, "category_not_found", "Category not found", {
      detail: `No category has the slug '${query.category}'.`,
    });
  }
  const rows = await queryListing(db, {
    categorySlug: query.category,
    brand: query.brand,
    currency: query.currency,
    minPrice: query.min_price,
    maxPrice: query.max_price,
    sort: query.sort,
    after,
    limit: query.limit,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor({ s: query.sort, k: sortKey(last, query.sort), i: last.id })
      : null;
  return {
    items: page.map((row) => ({
      id: row.id,
      slug: row.slug,
      title: row.title,
      brand: row.brand,
      price: { amount: row.price, currency: query.currency },
      compare_at_price: row.compare_at === null ? null : { amount: row.compare_at, currency: query.currency },
      image: row.image_url === null ? null : { url: row.image_url, alt: row.image_alt ?? "" },
      created_at: new Date(row.created_at).toISOString(),
    })),
    next_cursor: nextCursor,
  };
}

/**
 * Only category/sort pages are projected into KV: brand and price filters have unbounded
 * combinations, and storing each would let any client turn reads into KV writes. Filtered
 * queries are answered from D1 and cached by the Cache API only.
 */
const isProjectedListing = (query: ProductListQuery) =>
  query.brand === undefined && query.min_price === undefined && query.max_price === undefined;

/**
 * The listing page at `location`: KV first, D1 on a miss (then stored under the same
 * generation). When D1 fails or is slow, the query's last good page: from KV for projected
 * queries, from this colo's Cache API for filtered ones (never KV: unbounded combinations).
 */
export async function loadListingPage(
  env: Env,
  query: ProductListQuery,
  location: ListingLocation,
): Promise<{ page: ListingPageDocument; source: ReadSource }> {
  const projected = isProjectedListing(query);
  const cached = projected ? await readListingPage(env.CATALOG_KV, location.key) : null;
  if (cached) return { page: cached, source: "kv" };
  const cacheKey = lastGoodCacheKey(location.scope, location.queryHash);
  const { value: page, degraded } = await readWithFallback<ListingPageDocument>({
    primary: async () => {
      const body = await listProductsFromD1(env, query);
      const etag = `"l.${(await sha256Hex(JSON.stringify(body))).slice(0, 32)}"`;
      return { schema: 1, etag, body };
    },
    fallback: async () => {
      if (projected) return readLastGoodListing(env.CATALOG_KV, location);
      const hit = await readCached(cacheKey);
      return hit ? { schema: 1, etag: hit.etag, body: JSON.parse(hit.body) as ProductList } : null;
    },
    budgetMs: databaseSettings(env).readBudgetMs,
    fallbackName: projected ? "kv-last-good" : "cache-last-good",
  });
  if (degraded) return { page, source: "last-good" };
  if (projected) await writeListingPage(env.CATALOG_KV, location, page);
  else await storeLastGoodCached(cacheKey, { body: JSON.stringify(page.body), etag: page.etag });
  return { page, source: "d1" };
}

/**
 * Lists visible products sold in the query's currency, with filters, sort and keyset
 * pagination: `next_cursor` walks every product exactly once even across equal sort keys.
 */
export async function listProducts(
  env: Env,
  query: ProductListQuery,
): Promise<{ list: ProductList; etag: string; source: ReadSource }> {
  const location = await locateListing(env, query);
  const { page, source } = await loadListingPage(env, query, location);
  return { list: page.body, etag: page.etag, source };
}
