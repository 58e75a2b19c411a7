import { z } from "@hono/zod-openapi";
import type { Currency, Money } from "../lib/money";
import { problems } from "../lib/problem";
import { decodeCursor, encodeCursor } from "../lib/schemas";
import { type PriceBucket, priceBuckets, priceFacet } from "./price-buckets";
import { type Correction, parseQuery } from "./query";
import { normaliseQuery } from "./text";

export const SEARCH_SORTS = ["relevance", "price_asc", "price_desc", "newest"] as const;
export type SearchSort = (typeof SEARCH_SORTS)[number];
export const AVAILABILITY_VALUES = ["in_stock", "sold_out"] as const;

/**
 * bm25 column weights, in `search_fts` column order: title, brand, SKU codes, category names,
 * attribute values, description. A title hit outweighs a description mention tenfold; an
 * exact SKU is nearly as strong as the title.
 */
export const BM25_WEIGHTS = [10, 6, 8, 3, 2, 1] as const;
/** Values listed per facet (most frequent first); selected values are always listed. */
const FACET_VALUES_SHOWN = 30;

export interface SearchInput {
  q: string;
  currency: Currency;
  sort: SearchSort;
  limit: number;
  cursor?: string | undefined;
  category: string[];
  brand: string[];
  /** Price bucket keys (`min-max` minor units), OR-ed. */
  price: string[];
  min_price?: number | undefined;
  max_price?: number | undefined;
  /** Attribute selections by lower-cased attribute name. */
  attributes: Record<string, string[]>;
  availability: string[];
}

export interface FacetValue {
  value: string;
  label: string;
  count: number;
  selected: boolean;
}

export interface PriceFacetValue extends FacetValue {
  min: Money;
  max: Money | null;
}

export interface SearchHit {
  product_id: string;
  slug: string;
  title: string;
  brand: string;
  thumbnail_url: string | null;
  price: Money | null;
  in_stock: boolean;
}

export interface SearchResult {
  query: { q: string; normalised: string; mode: "search" | "browse"; corrections: Correction[] };
  results: SearchHit[];
  total: number;
  next_cursor: string | null;
  facets: {
    category: FacetValue[];
    brand: FacetValue[];
    price: PriceFacetValue[];
    availability: FacetValue[];
    attributes: Record<string, FacetValue[]>;
  };
}

const CursorSchema = z.object({
  s: z.enum(SEARCH_SORTS),
  f: z.string(),
  k: z.tuple([z.number(), z.number(), z.number().int()]),
});

/** FNV-1a over the query and filters: binds a cursor to the search that issued it. */
function fingerprint(input: SearchInput): string {
  const { cursor: _cursor, limit: _limit, ...rest } = input;
  const text = JSON.stringify(rest);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

/** A facet filter group: selections within it are OR-ed; groups are AND-ed. */
interface FilterGroup {
  facet: string;
  sql: string;
  params: unknown[];
}

function filterGroups(input: SearchInput): FilterGroup[] {
  const groups: FilterGroup[] = [];
  const inFacet = (facet: string, values: string[]): FilterGroup => ({
    facet,
    sql: "d.doc_id IN (SELECT doc_id FROM search_doc_facets WHERE facet = ? AND value IN (SELECT value FROM json_each(?)))",
    params: [facet, JSON.stringify(values)],
  });
  if (input.category.length > 0) groups.push(inFacet("category", input.category));
  if (input.brand.length > 0) groups.push(inFacet("brand", input.brand));
  if (input.availability.length > 0) groups.push(inFacet("availability", input.availability));
  for (const [name, values] of Object.entries(input.attributes)) {
    if (values.length > 0) groups.push(inFacet(`attr:${name}`, values));
  }
  const priceName = priceFacet(input.currency);
  const priceParts: string[] = [];
  const priceParams: unknown[] = [];
  if (input.price.length > 0) {
    const bucket = inFacet(priceName, input.price);
    priceParts.push(bucket.sql);
    priceParams.push(...bucket.params);
  }
  if (input.min_price !== undefined || input.max_price !== undefined) {
    priceParts.push(
      "d.doc_id IN (SELECT doc_id FROM search_doc_prices WHERE currency = ? AND amount >= ? AND amount <= ?)",
    );
    priceParams.push(input.currency, input.min_price ?? 0, input.max_price ?? Number.MAX_SAFE_INTEGER);
  }
  if (priceParts.length > 0)
    groups.push({ facet: priceName, sql: priceParts.join(" AND "), params: priceParams });
  return groups;
}

/**
 * Facet rows of the docs matching `filterSql`. With any filter, the matching doc ids drive the
 * join (CROSS JOIN pins that order) and each probes the covering (doc_id, facet, value) index:
 * left to itself SQLite scans every facet row and probes the match set, 10–20× slower at
 * 100 000 products. With no filter at all, scanning the facet index in order is the best plan.
 */
const facetRowsOf = (filterSql: string) =>
  filterSql === "1"
    ? "search_doc_facets f"
    : `(SELECT d.doc_id FROM search_docs d WHERE ${filterSql}) m CROSS JOIN search_doc_facets f ON f.doc_id = m.doc_id`;

function where(conditions: { sql: string; params: unknown[] }[]): { sql: string; params: unknown[] } {
  if (conditions.length === 0) return { sql: "1", params: [] };
  return { sql: conditions.map((c) => c.sql).join(" AND "), params: conditions.flatMap((c) => c.params) };
}

const sortKeys = (sort: SearchSort, hasText: boolean): [string, string] => {
  switch (sort) {
    case "price_asc":
      return ["(pr.amount IS NULL)", "coalesce(pr.amount, 0)"];
    case "price_desc":
      return ["(pr.amount IS NULL)", "-coalesce(pr.amount, 0)"];
    case "newest":
      return ["0", "-d.created_at"];
    default:
      // In stock before sold out, then bm25 (negative: lower is better) scaled by popularity.
      return hasText ? ["(1 - d.in_stock)", "h.score * d.boost"] : ["(1 - d.in_stock)", "-d.popularity"];
  }
};

function facetLabel(facet: string, value: string, categoryNames: Map<string, string>): string {
  if (facet === "category") return categoryNames.get(value) ?? value;
  if (facet === "availability") return value === "in_stock" ? "In stock" : "Sold out";
  return value;
}

/**
 * Full-text search with disjunctive facets. Two D1 round trips: the vocabulary lookup that
 * resolves prefixes and typos, then one batch with the page, the total and the facet counts.
 * Each facet with a selection is counted with every other facet's selection applied but not
 * its own (so shoppers can widen a choice); facets without one share a single count query.
 */
export async function searchProducts(db: D1Database, input: SearchInput): Promise<SearchResult> {
  const print = fingerprint(input);
  let after: [number, number, number] | null = null;
  if (input.cursor) {
    const decoded = decodeCursor(input.cursor, CursorSchema);
    if (!decoded || decoded.s !== input.sort || decoded.f !== print) {
      throw problems.validation(
        [{ path: "query.cursor", message: "Cursor does not belong to this search" }],
        "The cursor is malformed or was issued for a different query, filter or sort.",
      );
    }
    after = decoded.k;
  }
  const parsed = await parseQuery(db, input.q);
  const hasText = parsed.match !== null;
  const textCondition = hasText
    ? [{ sql: "d.doc_id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)", params: [parsed.match] }]
    : [];
  const groups = filterGroups(input);

  const [k1, k2] = sortKeys(input.sort, hasText);
  const filters = where(groups);
  const pageParams: unknown[] = [];
  let from: string;
  if (hasText) {
    from = `(SELECT rowid AS doc_id, bm25(search_fts, ${BM25_WEIGHTS.join(", ")}) AS score FROM search_fts WHERE search_fts MATCH ?) h
      JOIN search_docs d ON d.doc_id = h.doc_id`;
    pageParams.push(parsed.match);
  } else {
    from = "search_docs d";
  }
  pageParams.push(input.currency, ...filters.params);
  let keyset = "";
  if (after) {
    keyset = ` AND (${k1}, ${k2}, d.doc_id) > (?, ?, ?)`;
    pageParams.push(...after);
  }
  pageParams.push(input.limit + 1);
  const pageSql = `SELECT d.doc_id, d.product_id, d.slug, d.title, d.brand, d.thumbnail_url, d.in_stock, pr.amount,
      ${k1} AS k1, ${k2} AS k2
    FROM ${from} LEFT JOIN search_doc_prices pr ON pr.doc_id = d.doc_id AND pr.currency = ?
    WHERE ${filters.sql}${keyset}
    ORDER BY k1, k2, d.doc_id LIMIT ?`;

  const all = where([...textCondition, ...groups]);
  const totalSql = `SELECT count(*) AS n FROM search_docs d WHERE ${all.sql}`;

  const priceName = priceFacet(input.currency);
  const selectedFacets = groups.map((group) => group.facet);
  const facetStatements: { sql: string; params: unknown[] }[] = [];
  // Facets nobody selected are counted under every selection at once.
  const shared = ["category", "brand", "availability", priceName].filter((f) => !selectedFacets.includes(f));
  facetStatements.push({
    sql: `SELECT f.facet, f.value, count(*) AS n FROM ${facetRowsOf(all.sql)}
      WHERE (f.facet IN (SELECT value FROM json_each(?))
        OR (f.facet >= 'attr:' AND f.facet < 'attr;' AND f.facet NOT IN (SELECT value FROM json_each(?))))
      GROUP BY f.facet, f.value`,
    params: [...all.params, JSON.stringify(shared), JSON.stringify(selectedFacets)],
  });
  for (const group of groups) {
    const others = where([...textCondition, ...groups.filter((g) => g !== group)]);
    facetStatements.push({
      sql: `SELECT f.facet, f.value, count(*) AS n FROM ${facetRowsOf(others.sql)}
        WHERE f.facet = ? GROUP BY f.facet, f.value`,
      params: [...others.params, group.facet],
    });
  }

  const [page, total, categories, ...facetResults] = await db.batch([
    db.prepare(pageSql).bind(...pageParams),
    db.prepare(totalSql).bind(...all.params),
    db.prepare("SELECT slug, name FROM categories"),
    ...facetStatements.map((s) => db.prepare(s.sql).bind(...s.params)),
  ]);

  const rows = (page?.results ?? []) as {
    doc_id: number;
    product_id: string;
    slug: string;
    title: string;
    brand: string;
    thumbnail_url: string | null;
    in_stock: number;
    amount: number | null;
    k1: number;
    k2: number;
  }[];
  const more = rows.length > input.limit;
  const pageRows = rows.slice(0, input.limit);
  const lastRow = pageRows[pageRows.length - 1];
  const nextCursor =
    more && lastRow
      ? encodeCursor({ s: input.sort, f: print, k: [lastRow.k1, lastRow.k2, lastRow.doc_id] })
      : null;

  const categoryNames = new Map(
    ((categories?.results ?? []) as { slug: string; name: string }[]).map((row) => [row.slug, row.name]),
  );
  const counts = new Map<string, Map<string, number>>();
  for (const result of facetResults) {
    for (const row of (result?.results ?? []) as { facet: string; value: string; n: number }[]) {
      let values = counts.get(row.facet);
      if (!values) {
        values = new Map();
        counts.set(row.facet, values);
      }
      values.set(row.value, row.n);
    }
  }
  const selectedOf = (facet: string): string[] => {
    if (facet === "category") return input.category;
    if (facet === "brand") return input.brand;
    if (facet === "availability") return input.availability;
    if (facet === priceName) return input.price;
    return input.attributes[facet.slice("attr:".length)] ?? [];
  };
  const listFacet = (facet: string): FacetValue[] => {
    const values = new Map(counts.get(facet) ?? []);
    const selected = selectedOf(facet);
    for (const value of selected) if (!values.has(value)) values.set(value, 0);
    return [...values]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .filter(([value], index) => index < FACET_VALUES_SHOWN || selected.includes(value))
      .map(([value, count]) => ({
        value,
        label: facetLabel(facet, value, categoryNames),
        count,
        selected: selected.includes(value),
      }));
  };
  const attributes: Record<string, FacetValue[]> = {};
  const attributeNames = new Set([
    ...[...counts.keys()].filter((facet) => facet.startsWith("attr:")),
    ...Object.keys(input.attributes).map((name) => `attr:${name}`),
  ]);
  for (const facet of [...attributeNames].sort()) attributes[facet.slice("attr:".length)] = listFacet(facet);
  const priceCounts = counts.get(priceName) ?? new Map<string, number>();
  const price = priceBuckets(input.currency).map((bucket: PriceBucket) => ({
    value: bucket.key,
    label: bucket.key,
    count: priceCounts.get(bucket.key) ?? 0,
    selected: input.price.includes(bucket.key),
    min: { amount: bucket.min, currency: input.currency },
    max: bucket.max === null ? null : { amount: bucket.max, currency: input.currency },
  }));

  return {
    query: {
      q: input.q,
      normalised: normaliseQuery(input.q),
      mode: hasText ? "search" : "browse",
      corrections: parsed.corrections,
    },
    results: pageRows.map((row) => ({
      product_id: row.product_id,
      slug: row.slug,
      title: row.title,
      brand: row.brand,
      thumbnail_url: row.thumbnail_url,
      price: row.amount === null ? null : { amount: row.amount, currency: input.currency },
      in_stock: row.in_stock === 1,
    })),
    total: ((total?.results ?? [])[0] as { n: number } | undefined)?.n ?? 0,
    next_cursor: nextCursor,
    facets: {
      category: listFacet("category"),
      brand: listFacet("brand"),
      price,
      availability: listFacet("availability"),
      attributes,
    },
  };
}
