import { CURRENCY_CODES, type Currency } from "../lib/money";
import { bucketFor, priceFacet } from "./price-buckets";

/** What the indexer writes for one active product. */
export interface SearchDocument {
  product_id: string;
  slug: string;
  title: string;
  brand: string;
  thumbnail_url: string | null;
  popularity: number;
  boost: number;
  created_at: number;
  revision: number;
  text: DocumentText;
  /** `[facet, value]` pairs except availability, which follows `in_stock`. */
  facets: [string, string][];
  /** `[currency, lowest active-variant amount]`. */
  prices: [Currency, number][];
}

/** The FTS5 columns, in the order of the `search_fts` table (bm25 weights are positional). */
export interface DocumentText {
  title: string;
  brand: string;
  skus: string;
  categories: string;
  attributes: string;
  description: string;
}

interface CategoryNode {
  slug: string;
  name: string;
  parent_id: string | null;
}

interface ProductRow {
  id: string;
  slug: string;
  title: string;
  description: string;
  brand: string;
  status: string;
  popularity: number;
  revision: number;
  created_at: number;
}

/**
 * Popularity lifts relevance logarithmically: a best-seller beats a slightly better text match
 * but never an exact title hit against a description mention (bm25 weights differ by 10×).
 */
export function popularityBoost(popularity: number): number {
  return 1 + Math.log10(1 + Math.max(0, popularity)) / 4;
}

/** The category tree, read once per indexing run (a few hundred rows at most). */
export async function loadCategoryTree(db: D1Database): Promise<Map<string, CategoryNode>> {
  const { results } = await db
    .prepare("SELECT id, slug, name, parent_id FROM categories")
    .all<CategoryNode & { id: string }>();
  return new Map(
    results.map((row) => [row.id, { slug: row.slug, name: row.name, parent_id: row.parent_id }]),
  );
}

function withAncestors(tree: Map<string, CategoryNode>, categoryId: string): CategoryNode[] {
  const out: CategoryNode[] = [];
  const seen = new Set<string>();
  let current: string | null = categoryId;
  // A cycle in parent ids is a catalog bug; the seen-set keeps it from hanging the indexer.
  while (current !== null && !seen.has(current)) {
    seen.add(current);
    const node = tree.get(current);
    if (!node) break;
    out.push(node);
    current = node.parent_id;
  }
  return out;
}

/**
 * Reads the current catalog state of `productIds` and builds their search documents. Products
 * that are missing or not `active` come back in `inactive` so the caller removes them.
 */
export async function loadDocuments(
  db: D1Database,
  productIds: string[],
  tree: Map<string, CategoryNode>,
): Promise<{ docs: SearchDocument[]; inactive: string[] }> {
  if (productIds.length === 0) return { docs: [], inactive: [] };
  const ids = JSON.stringify(productIds);
  const inIds = "(SELECT value FROM json_each(?1))";
  const [products, variants, prices, categories, attributes, media] = await db.batch([
    db
      .prepare(
        `SELECT id, slug, title, description, brand, status, popularity, revision, created_at FROM products WHERE id IN ${inIds}`,
      )
      .bind(ids),
    db
      .prepare(
        `SELECT product_id, sku, title, options FROM variants WHERE status = 'active' AND product_id IN ${inIds} ORDER BY product_id, position`,
      )
      .bind(ids),
    db
      .prepare(
        `SELECT v.product_id, p.currency, min(p.amount) AS amount FROM prices p JOIN variants v ON v.id = p.variant_id
         WHERE v.status = 'active' AND v.product_id IN ${inIds} GROUP BY v.product_id, p.currency`,
      )
      .bind(ids),
    db
      .prepare(
        `SELECT product_id, category_id FROM product_categories WHERE product_id IN ${inIds} ORDER BY position`,
      )
      .bind(ids),
    db
      .prepare(`SELECT product_id, name, value FROM product_attributes WHERE product_id IN ${inIds}`)
      .bind(ids),
    db
      .prepare(
        `SELECT product_id, url FROM media WHERE product_id IN ${inIds} ORDER BY product_id, position DESC, id DESC`,
      )
      .bind(ids),
  ]);

  const group = <T extends { product_id: string }>(rows: T[]) => {
    const out = new Map<string, T[]>();
    for (const row of rows) {
      const list = out.get(row.product_id);
      if (list) list.push(row);
      else out.set(row.product_id, [row]);
    }
    return out;
  };
  const variantsBy = group(
    (variants?.results ?? []) as { product_id: string; sku: string; title: string; options: string }[],
  );
  const pricesBy = group(
    (prices?.results ?? []) as { product_id: string; currency: string; amount: number }[],
  );
  const categoriesBy = group((categories?.results ?? []) as { product_id: string; category_id: string }[]);
  const attributesBy = group(
    (attributes?.results ?? []) as { product_id: string; name: string; value: string }[],
  );
  // Ordered by position descending, so the last row written per product is its first image.
  const thumbnails = new Map<string, string>();
  for (const row of (media?.results ?? []) as { product_id: string; url: string }[])
    thumbnails.set(row.product_id, row.url);

  const docs: SearchDocument[] = [];
  for (const product of (products?.results ?? []) as ProductRow[]) {
    if (product.status !== "active") continue;
    const facets = new Map<string, [string, string]>();
    const addFacet = (facet: string, value: string) => {
      const trimmed = value.trim();
      if (trimmed) facets.set(`${facet}\u0000${trimmed}`, [facet, trimmed]);
    };
    if (product.brand.trim()) addFacet("brand", product.brand);

    const categoryNames: string[] = [];
    for (const { category_id } of categoriesBy.get(product.id) ?? []) {
      for (const node of withAncestors(tree, category_id)) {
        addFacet("category", node.slug);
        if (!categoryNames.includes(node.name)) categoryNames.push(node.name);
      }
    }

    const attributeValues: string[] = [];
    for (const { name, value } of attributesBy.get(product.id) ?? []) {
      addFacet(`attr:${name.trim().toLowerCase()}`, value);
      attributeValues.push(value);
    }
    const skus: string[] = [];
    const variantTitles: string[] = [];
    for (const variant of variantsBy.get(product.id) ?? []) {
      skus.push(variant.sku);
      if (variant.title) variantTitles.push(variant.title);
      let options: Record<string, unknown> = {};
      try {
        options = JSON.parse(variant.options) as Record<string, unknown>;
      } catch {
        // A malformed options blob must not stop the product from being searchable.
      }
      for (const [name, value] of Object.entries(options)) {
        if (typeof value !== "string") continue;
        addFacet(`attr:${name.trim().toLowerCase()}`, value);
        if (!attributeValues.includes(value)) attributeValues.push(value);
      }
    }

    const docPrices: [Currency, number][] = [];
    for (const { currency, amount } of pricesBy.get(product.id) ?? []) {
      if (!(CURRENCY_CODES as string[]).includes(currency)) continue;
      docPrices.push([currency as Currency, amount]);
      addFacet(priceFacet(currency as Currency), bucketFor(currency as Currency, amount));
    }

    docs.push({
      product_id: product.id,
      slug: product.slug,
      title: product.title,
      brand: product.brand,
      thumbnail_url: thumbnails.get(product.id) ?? null,
      popularity: product.popularity,
      boost: popularityBoost(product.popularity),
      created_at: product.created_at,
      revision: product.revision,
      text: {
        title: product.title,
        brand: product.brand,
        skus: skus.join(" "),
        categories: categoryNames.join(" "),
        attributes: [...attributeValues, ...variantTitles].join(" "),
        description: product.description,
      },
      facets: [...facets.values()],
      prices: docPrices,
    });
  }
  const indexed = new Set(docs.map((doc) => doc.product_id));
  const inactive = productIds.filter((id) => !indexed.has(id));
  return { docs, inactive };
}
