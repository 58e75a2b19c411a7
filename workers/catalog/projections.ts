import { BoundedMap } from "../lib/bounded-map";
import type { Currency } from "../lib/money";
import {
  CATEGORIES_KEY,
  LAST_GOOD_CATEGORIES_KEY,
  LAST_GOOD_TTL_SECONDS,
  LISTING_PAGE_TTL_SECONDS,
  lastGoodListingKey,
  lastGoodProductKey,
  listingGenerationKey,
  productKey,
} from "./kv-keys";
import type { CategoryRow, ProductRecord } from "./queries";
import type { CategoryNode, ProductDetail, ProductList } from "./schemas";

/**
 * The denormalised product document stored at `catalog:v1:product:{slug}`. It holds every
 * currency's prices so one document serves all currencies. `revision` is the product's D1
 * revision at build time; a document never replaces one with a higher revision of the same
 * product. A tombstone (`visible: false`) answers 404 for drafts, archived products and
 * slugs a product has moved away from.
 */
export type ProductDocument = LiveProductDocument | ProductTombstone;

interface DocumentBase {
  schema: 1;
  product_id: string;
  revision: number;
  slug: string;
  /** Listing scopes (category slugs with ancestors) the product appeared in at build time. */
  scopes: string[];
  built_at: string;
}

export interface LiveProductDocument extends DocumentBase {
  visible: true;
  product: Omit<ProductDetail, "currency" | "variants"> & {
    variants: (Omit<ProductDetail["variants"][number], "price" | "compare_at_price"> & {
      prices: Record<string, { amount: number; compare_at_amount: number | null }>;
    })[];
  };
}

export interface ProductTombstone extends DocumentBase {
  visible: false;
}

/** Builds the document for `record` as published at `slug` (which may be a former slug). */
export function buildProductDocument(
  record: ProductRecord,
  scopes: Iterable<string>,
  slug = record.slug,
): ProductDocument {
  const base: DocumentBase = {
    schema: 1,
    product_id: record.id,
    revision: record.revision,
    slug,
    scopes: [...scopes].sort(),
    built_at: new Date().toISOString(),
  };
  if (record.status !== "active" || slug !== record.slug) return { ...base, visible: false };
  const activeVariants = record.variants.filter((v) => v.status === "active");
  const optionValues = new Map<string, string[]>();
  for (const variant of activeVariants) {
    for (const [name, value] of Object.entries(variant.options)) {
      const values = optionValues.get(name) ?? [];
      if (!values.includes(value)) values.push(value);
      optionValues.set(name, values);
    }
  }
  return {
    ...base,
    visible: true,
    product: {
      id: record.id,
      slug: record.slug,
      title: record.title,
      description: record.description,
      brand: record.brand,
      revision: record.revision,
      options: [...optionValues].map(([name, values]) => ({ name, values })),
      variants: activeVariants.map((v) => ({
        id: v.id,
        sku: v.sku,
        title: v.title,
        options: v.options,
        weight_grams: v.weightGrams,
        barcode: v.barcode,
        prices: Object.fromEntries(
          v.prices.map((p) => [p.currency, { amount: p.amount, compare_at_amount: p.compareAtAmount }]),
        ),
      })),
      media: record.media,
      categories: record.categories.map(({ id, slug: categorySlug, name }) => ({
        id,
        slug: categorySlug,
        name,
      })),
      attributes: record.attributes,
      updated_at: new Date(record.updatedAt).toISOString(),
    },
  };
}

/** The public product payload in one currency, from a live document. */
export function renderProduct(doc: LiveProductDocument, currency: Currency): ProductDetail {
  const { variants, ...rest } = doc.product;
  return {
    ...rest,
    currency,
    variants: variants.map(({ prices, ...variant }) => {
      const price = prices[currency];
      return {
        ...variant,
        price: price ? { amount: price.amount, currency } : null,
        compare_at_price:
          price && price.compare_at_amount !== null ? { amount: price.compare_at_amount, currency } : null,
      };
    }),
  };
}

/** Strong ETag of a product representation: it is fully determined by revision and currency. */
export const productEtag = (doc: ProductDocument, currency: Currency) =>
  `"${doc.product_id}.r${doc.revision}.${currency}"`;

export async function readProductDocument(kv: KVNamespace, slug: string): Promise<ProductDocument | null> {
  const doc = await kv.get<ProductDocument>(productKey(slug), "json");
  return doc?.schema === 1 ? doc : null;
}

/** The last product document written at `slug`, for when D1 cannot rebuild it. */
export async function readLastGoodProduct(kv: KVNamespace, slug: string): Promise<ProductDocument | null> {
  const doc = await kv.get<ProductDocument>(lastGoodProductKey(slug), "json");
  return doc?.schema === 1 ? doc : null;
}

/**
 * Writes `doc` unless KV already holds the same or a newer revision of the same product.
 * A document of a different product at the slug is replaced: `doc` was built from D1, which
 * says the slug belongs to `doc.product_id` now. Returns whether it wrote.
 */
export async function writeProductDocument(
  kv: KVNamespace,
  doc: ProductDocument,
  ttlSeconds: number,
  existing?: ProductDocument | null,
): Promise<boolean> {
  const current = existing === undefined ? await readProductDocument(kv, doc.slug) : existing;
  if (current && current.product_id === doc.product_id && current.revision >= doc.revision) return false;
  const body = JSON.stringify(doc);
  const metadata = { product_id: doc.product_id, revision: doc.revision };
  await Promise.all([
    kv.put(productKey(doc.slug), body, { expirationTtl: ttlSeconds, metadata }),
    kv.put(lastGoodProductKey(doc.slug), body, { expirationTtl: LAST_GOOD_TTL_SECONDS, metadata }),
  ]);
  return true;
}

/** The category tree document at `catalog:v1:categories`. */
export interface CategoryTreeDocument {
  schema: 1;
  /** Newest `updated_at` among the categories plus their count: grows with every change. */
  version: string;
  etag: string;
  categories: CategoryNode[];
}

export function buildCategoryTree(rows: CategoryRow[]): CategoryTreeDocument {
  const nodes = new Map<string, CategoryNode & { parentId: string | null }>();
  for (const row of rows) {
    nodes.set(row.id, {
      id: row.id,
      slug: row.slug,
      name: row.name,
      description: row.description,
      position: row.position,
      children: [],
      parentId: row.parentId,
    });
  }
  const roots: CategoryNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentId ? nodes.get(node.parentId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const strip = (node: CategoryNode & { parentId?: string | null }): CategoryNode => ({
    id: node.id,
    slug: node.slug,
    name: node.name,
    description: node.description,
    position: node.position,
    children: node.children
      .sort((a, b) => a.position - b.position || a.slug.localeCompare(b.slug))
      .map(strip),
  });
  const newest = rows.reduce((max, row) => Math.max(max, row.updatedAt), 0);
  const version = `${newest.toString(36)}-${rows.length.toString(36)}`;
  return {
    schema: 1,
    version,
    etag: `"categories.${version}"`,
    categories: roots.sort((a, b) => a.position - b.position || a.slug.localeCompare(b.slug)).map(strip),
  };
}

export async function readCategoryTree(kv: KVNamespace): Promise<CategoryTreeDocument | null> {
  const doc = await kv.get<CategoryTreeDocument>(CATEGORIES_KEY, "json");
  return doc?.schema === 1 ? doc : null;
}

/** Categories are only ever added or edited, so a newer tree has a larger `version` ordering. */
const treeVersionParts = (version: string) => version.split("-").map((part) => Number.parseInt(part, 36));
function isNewerTree(candidate: string, current: string): boolean {
  const [a = 0, b = 0] = treeVersionParts(candidate);
  const [c = 0, d = 0] = treeVersionParts(current);
  return a > c || (a === c && b > d);
}

export async function writeCategoryTree(kv: KVNamespace, doc: CategoryTreeDocument, ttlSeconds: number) {
  const current = await readCategoryTree(kv);
  if (current && !isNewerTree(doc.version, current.version)) return false;
  const body = JSON.stringify(doc);
  await Promise.all([
    kv.put(CATEGORIES_KEY, body, { expirationTtl: ttlSeconds }),
    kv.put(LAST_GOOD_CATEGORIES_KEY, body, { expirationTtl: LAST_GOOD_TTL_SECONDS }),
  ]);
  return true;
}

/** The last category tree written, for when D1 cannot rebuild it. */
export async function readLastGoodCategoryTree(kv: KVNamespace): Promise<CategoryTreeDocument | null> {
  const doc = await kv.get<CategoryTreeDocument>(LAST_GOOD_CATEGORIES_KEY, "json");
  return doc?.schema === 1 ? doc : null;
}

/** One cached listing page, keyed by scope, generation and normalised query. */
export interface ListingPageDocument {
  schema: 1;
  etag: string;
  body: ProductList;
}

/**
 * Generations read in this isolate in the last `GENERATION_MEMORY_MS`: a listing request
 * then costs no KV read. KV itself may serve a generation up to its cache TTL old in other
 * locations, so a second here changes nothing a reader can observe; a bump made by this
 * isolate is seen at once.
 */
const GENERATION_MEMORY_MS = 1000;
const generations = new BoundedMap<string, { generation: string; at: number }>(256);

export async function readListingGeneration(kv: KVNamespace, scope: string): Promise<string> {
  const held = generations.get(scope);
  if (held && Date.now() - held.at < GENERATION_MEMORY_MS) return held.generation;
  const generation = (await kv.get(listingGenerationKey(scope))) ?? "0";
  generations.set(scope, { generation, at: Date.now() });
  return generation;
}

/**
 * Starts a new generation for each scope: every cached page of the scope becomes
 * unreachable at once. Generations only need to differ, not to order.
 */
export async function bumpListingGenerations(kv: KVNamespace, scopes: Iterable<string>): Promise<void> {
  const random = crypto.getRandomValues(new Uint8Array(4));
  const generation = `${Date.now().toString(36)}${[...random].map((b) => b.toString(36)).join("")}`;
  await Promise.all(
    [...scopes].map((scope) => {
      generations.delete(scope);
      return kv.put(listingGenerationKey(scope), generation);
    }),
  );
}

export async function readListingPage(kv: KVNamespace, key: string): Promise<ListingPageDocument | null> {
  const doc = await kv.get<ListingPageDocument>(key, "json");
  return doc?.schema === 1 ? doc : null;
}

/**
 * Stores a listing page under its generation's key, and as the last good copy of its query
 * (scope + query hash, any generation).
 */
export async function writeListingPage(
  kv: KVNamespace,
  location: { key: string; scope: string; queryHash: string },
  doc: ListingPageDocument,
) {
  const body = JSON.stringify(doc);
  await Promise.all([
    kv.put(location.key, body, { expirationTtl: LISTING_PAGE_TTL_SECONDS }),
    kv.put(lastGoodListingKey(location.scope, location.queryHash), body, {
      expirationTtl: LAST_GOOD_TTL_SECONDS,
    }),
  ]);
}

/** The last page stored for a projected listing query, whatever its generation. */
export async function readLastGoodListing(
  kv: KVNamespace,
  location: { scope: string; queryHash: string },
): Promise<ListingPageDocument | null> {
  const doc = await kv.get<ListingPageDocument>(
    lastGoodListingKey(location.scope, location.queryHash),
    "json",
  );
  return doc?.schema === 1 ? doc : null;
}
