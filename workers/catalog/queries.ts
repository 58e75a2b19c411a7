import { and, asc, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import {
  categories,
  media,
  prices,
  productAttributes,
  productCategories,
  products,
  variants,
} from "../../db/schema";
import type { Currency } from "../lib/money";
import type { ProductSort } from "./schemas";

/** A product exactly as D1 holds it, with everything a projection or the admin API needs. */
export interface ProductRecord {
  id: string;
  slug: string;
  title: string;
  description: string;
  brand: string;
  status: "draft" | "active" | "archived";
  featured: boolean;
  popularity: number;
  revision: number;
  taxClass: string | null;
  createdAt: number;
  updatedAt: number;
  variants: VariantRecord[];
  media: { url: string; alt: string; width: number | null; height: number | null; position: number }[];
  categories: { id: string; slug: string; name: string; parentId: string | null }[];
  attributes: { name: string; value: string }[];
}

export interface VariantRecord {
  id: string;
  productId: string;
  sku: string;
  title: string;
  options: Record<string, string>;
  weightGrams: number | null;
  barcode: string | null;
  position: number;
  status: "active" | "archived";
  prices: { currency: string; amount: number; compareAtAmount: number | null }[];
}

/**
 * Loads one product with its variants, prices, media, categories and attributes in a single
 * D1 batch, so every part comes from the same snapshot (a batch runs as one transaction).
 */
export async function loadProduct(
  db: Database,
  by: { id: string } | { slug: string },
): Promise<ProductRecord | null> {
  const match = "id" in by ? eq(products.id, by.id) : eq(products.slug, by.slug);
  const productIds = db.select({ id: products.id }).from(products).where(match);
  const [productRows, variantRows, priceRows, mediaRows, categoryRows, attributeRows] = await db.batch([
    db.select().from(products).where(match),
    db
      .select()
      .from(variants)
      .where(inArray(variants.productId, productIds))
      .orderBy(asc(variants.position), asc(variants.id)),
    db
      .select({
        variantId: prices.variantId,
        currency: prices.currency,
        amount: prices.amount,
        compareAtAmount: prices.compareAtAmount,
      })
      .from(prices)
      .innerJoin(variants, eq(variants.id, prices.variantId))
      .where(inArray(variants.productId, productIds))
      .orderBy(asc(prices.currency)),
    db
      .select()
      .from(media)
      .where(inArray(media.productId, productIds))
      .orderBy(asc(media.position), asc(media.id)),
    db
      .select({
        id: categories.id,
        slug: categories.slug,
        name: categories.name,
        parentId: categories.parentId,
      })
      .from(productCategories)
      .innerJoin(categories, eq(categories.id, productCategories.categoryId))
      .where(inArray(productCategories.productId, productIds))
      .orderBy(asc(productCategories.position), asc(categories.slug)),
    db
      .select({ name: productAttributes.name, value: productAttributes.value })
      .from(productAttributes)
      .where(inArray(productAttributes.productId, productIds))
      .orderBy(asc(productAttributes.name), asc(productAttributes.value)),
  ]);
  const product = productRows[0];
  if (!product) return null;
  const pricesByVariant = new Map<string, VariantRecord["prices"]>();
  for (const row of priceRows) {
    const list = pricesByVariant.get(row.variantId) ?? [];
    list.push({ currency: row.currency, amount: row.amount, compareAtAmount: row.compareAtAmount });
    pricesByVariant.set(row.variantId, list);
  }
  return {
    ...product,
    variants: variantRows.map((v) => ({
      id: v.id,
      productId: v.productId,
      sku: v.sku,
      title: v.title,
      options: v.options,
      weightGrams: v.weightGrams,
      barcode: v.barcode,
      position: v.position,
      status: v.status,
      prices: pricesByVariant.get(v.id) ?? [],
    })),
    media: mediaRows.map(({ url, alt, width, height, position }) => ({ url, alt, width, height, position })),
    categories: categoryRows,
    attributes: attributeRows,
  };
}

export interface CategoryRow {
  id: string;
  slug: string;
  name: string;
  description: string;
  parentId: string | null;
  position: number;
  createdAt: number;
  updatedAt: number;
}

/** Every category (the tree is small: hundreds of rows at most). */
export function loadCategories(db: Database): Promise<CategoryRow[]> {
  return db.select().from(categories).orderBy(asc(categories.position), asc(categories.slug));
}

/** Slugs of each category and all its ancestors: the listing scopes a product appears in. */
export function ancestorSlugs(all: CategoryRow[], categoryIds: Iterable<string>): Set<string> {
  const byId = new Map(all.map((c) => [c.id, c]));
  const out = new Set<string>();
  for (const start of categoryIds) {
    let current = byId.get(start);
    // The depth cap guards against a parent cycle written by hand into D1.
    for (let depth = 0; current && depth < 64; depth++) {
      out.add(current.slug);
      current = current.parentId ? byId.get(current.parentId) : undefined;
    }
  }
  return out;
}

export interface ListingRow {
  id: string;
  slug: string;
  title: string;
  brand: string;
  created_at: number;
  popularity: number;
  price: number;
  compare_at: number | null;
  image_url: string | null;
  image_alt: string | null;
}

export interface ListingFilter {
  categorySlug?: string | undefined;
  brand?: string | undefined;
  currency: Currency;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  sort: ProductSort;
  after?: { key: number | string; id: string } | undefined;
  limit: number;
}

const SORT_COLUMN: Record<ProductSort, { column: string; direction: "asc" | "desc" }> = {
  newest: { column: "created_at", direction: "desc" },
  price_asc: { column: "price", direction: "asc" },
  price_desc: { column: "price", direction: "desc" },
  title: { column: "title", direction: "asc" },
  popular: { column: "popularity", direction: "desc" },
};

/** The value a listing row is ordered by, which the cursor carries. */
export function sortKey(row: ListingRow, sort: ProductSort): number | string {
  const { column } = SORT_COLUMN[sort];
  return row[column as "created_at" | "price" | "title" | "popularity"];
}

/**
 * Active products sold in `currency` (at least one active variant priced in it), priced at
 * their cheapest variant, filtered and ordered by keyset `(sort key, id)` so pages never
 * repeat or skip a product even when many share a sort key. Returns up to `limit + 1`
 * rows so the caller can tell whether another page exists.
 */
export async function queryListing(db: Database, filter: ListingFilter): Promise<ListingRow[]> {
  const where: SQL[] = [sql`p.status = 'active'`];
  if (filter.brand !== undefined) where.push(sql`p.brand = ${filter.brand}`);
  if (filter.categorySlug !== undefined) {
    where.push(
      sql`p.id IN (SELECT pc.product_id FROM product_categories pc WHERE pc.category_id IN (SELECT id FROM scope))`,
    );
  }
  const outer: SQL[] = [sql`1 = 1`];
  if (filter.minPrice !== undefined) outer.push(sql`price >= ${filter.minPrice}`);
  if (filter.maxPrice !== undefined) outer.push(sql`price <= ${filter.maxPrice}`);
  const { column, direction } = SORT_COLUMN[filter.sort];
  const col = sql.raw(column);
  if (filter.after) {
    const { key, id } = filter.after;
    outer.push(
      direction === "asc"
        ? sql`(${col} > ${key} OR (${col} = ${key} AND id > ${id}))`
        : sql`(${col} < ${key} OR (${col} = ${key} AND id < ${id}))`,
    );
  }
  const dir = sql.raw(direction);
  const scope =
    filter.categorySlug !== undefined
      ? sql`scope(id) AS (
          SELECT id FROM categories WHERE slug = ${filter.categorySlug}
          UNION SELECT c.id FROM categories c JOIN scope s ON c.parent_id = s.id
        ),`
      : sql``;
  // SQLite gives bare columns the values of the row that MIN() picked, so compare_at
  // belongs to the cheapest variant.
  const query = sql`WITH RECURSIVE ${scope} priced AS (
      SELECT p.id, p.slug, p.title, p.brand, p.created_at, p.popularity,
        MIN(pr.amount) AS price, pr.compare_at_amount AS compare_at
      FROM products p
      JOIN variants v ON v.product_id = p.id AND v.status = 'active'
      JOIN prices pr ON pr.variant_id = v.id AND pr.currency = ${filter.currency}
      WHERE ${and(...where)}
      GROUP BY p.id
    )
    SELECT priced.*,
      (SELECT m.url FROM media m WHERE m.product_id = priced.id ORDER BY m.position, m.id LIMIT 1) AS image_url,
      (SELECT m.alt FROM media m WHERE m.product_id = priced.id ORDER BY m.position, m.id LIMIT 1) AS image_alt
    FROM priced
    WHERE ${and(...outer)}
    ORDER BY ${col} ${dir}, id ${dir}
    LIMIT ${filter.limit + 1}`;
  return db.all<ListingRow>(query);
}

/** Whether a category slug exists (listing by an unknown category is a 404, not an empty page). */
export async function categoryExists(db: Database, slug: string): Promise<boolean> {
  const rows = await db
    .select({ id: categories.id })
    .from(categories)
    .where(eq(categories.slug, slug))
    .limit(1);
  return rows.length > 0;
}
