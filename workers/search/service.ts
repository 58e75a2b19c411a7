import { z } from "@hono/zod-openapi";
import type { Currency, Money } from "../lib/money";
import { problems } from "../lib/problem";
import { decodeCursor, encodeCursor } from "../lib/schemas";
import type { ServerTiming } from "../lib/server-timing";
import {
  countFacets,
  DOC_SEPARATOR,
  DOCS_PER_CHUNK,
  type FacetSelection,
  type FacetValueRow,
  facetCode,
  facetTotals,
  MAX_CODED_ID,
} from "./facet-counts";
import { type PriceBucket, priceBuckets, priceFacet } from "./price-buckets";
import { type Correction, prepareQuery } from "./query";
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

/**
 * Whether doc `d` has a price in the range (params: currency, min, max). A scalar lookup on the
 * primary key, deliberately not `EXISTS`: D1's SQLite turns that into a semi-join over the
 * (currency, amount) index and scans the whole range once per matching doc (minutes at
 * 100 000 products).
 */
const PRICE_IN_RANGE =
  "(SELECT p.amount FROM search_doc_prices p WHERE p.doc_id = d.doc_id AND p.currency = ?) BETWEEN ? AND ?";

/** A browse selection holding fewer docs than this drives the page query from their list. */
const DRIVING_LIST_MAX_DOCS = 2000;

type DictionaryRow = FacetValueRow & { doc_count: number };
const dictionaryKey = (facet: string, value: string) => `${facet}\u0000${value}`;

/**
 * The selections as SQL conditions on `d`, for the page query. A selected value is usually
 * tested as a character of the doc's own `facet_codes` (no subquery), so SQLite walks the
 * sort order or the text matches and stops after a page. Building the doc list of a broad
 * value instead ("in stock": most of the catalog) costs ~150 ms at 100 000 products. A narrow
 * selection while browsing is the exception: there the short list is the fastest way in.
 */
function filterGroups(
  selections: readonly FacetSelection[],
  dictionary: ReadonlyMap<string, DictionaryRow>,
  hasText: boolean,
): FilterGroup[] {
  return selections.map((selection) => {
    const rows = selection.values.flatMap(
      (value) => dictionary.get(dictionaryKey(selection.facet, value)) ?? [],
    );
    const docs = rows.reduce((sum, row) => sum + row.doc_count, 0);
    if (rows.length === 0) return { facet: selection.facet, sql: "0", params: [] };
    if (rows.some((row) => row.id > MAX_CODED_ID) || (!hasText && docs <= DRIVING_LIST_MAX_DOCS)) {
      return {
        facet: selection.facet,
        sql: "d.doc_id IN (SELECT doc_id FROM search_doc_facets WHERE facet = ? AND value IN (SELECT value FROM json_each(?)))",
        params: [selection.facet, JSON.stringify(rows.map((row) => row.value))],
      };
    }
    return {
      facet: selection.facet,
      sql: `(${rows.map(() => "instr(d.facet_codes, ?) > 0").join(" OR ")})`,
      params: rows.map((row) => facetCode(row.id)),
    };
  });
}

/** The shopper's facet selections: OR within one, AND across them. */
export function selectionsOf(input: SearchInput): FacetSelection[] {
  const selections: FacetSelection[] = [];
  if (input.category.length > 0) selections.push({ facet: "category", values: input.category });
  if (input.brand.length > 0) selections.push({ facet: "brand", values: input.brand });
  if (input.availability.length > 0) selections.push({ facet: "availability", values: input.availability });
  for (const [name, values] of Object.entries(input.attributes)) {
    if (values.length > 0) selections.push({ facet: `attr:${name}`, values });
  }
  if (input.price.length > 0) selections.push({ facet: priceFacet(input.currency), values: input.price });
  return selections;
}

function where(conditions: { sql: string; params: unknown[] }[]): { sql: string; params: unknown[] } {
  if (conditions.length === 0) return { sql: "1", params: [] };
  return { sql: conditions.map((c) => c.sql).join(" AND "), params: conditions.flatMap((c) => c.params) };
}

/**
 * The two sort keys before `doc_id`, and the direction of all three. Browsing sorts on plain
 * columns in descending order, so SQLite walks `search_docs_popularity_idx` or
 * `search_docs_created_idx` backwards and stops after one page instead of sorting the whole
 * catalog (~350 ms at 100 000 products).
 */
const sortKeys = (sort: SearchSort, hasText: boolean): [string, string, "ASC" | "DESC"] => {
  switch (sort) {
    case "price_asc":
      return ["(pr.amount IS NULL)", "coalesce(pr.amount, 0)", "ASC"];
    case "price_desc":
      return ["(pr.amount IS NULL)", "-coalesce(pr.amount, 0)", "ASC"];
    case "newest":
      return ["d.created_at", "d.doc_id", "DESC"];
    default:
      // In stock before sold out, then bm25 (negative: lower is better) scaled by popularity.
      return hasText
        ? ["(1 - d.in_stock)", "h.score * d.boost", "ASC"]
        : ["d.in_stock", "d.popularity", "DESC"];
  }
};

function facetLabel(facet: string, value: string, categoryNames: Map<string, string>): string {
  if (facet === "category") return categoryNames.get(value) ?? value;
  if (facet === "availability") return value === "in_stock" ? "In stock" : "Sold out";
  return value;
}

/** The search's fingerprint and, for a next page, the keyset position its cursor carries. */
export function readCursor(input: SearchInput): { print: string; after: [number, number, number] | null } {
  const print = fingerprint(input);
  if (!input.cursor) return { print, after: null };
  const decoded = decodeCursor(input.cursor, CursorSchema);
  if (!decoded || decoded.s !== input.sort || decoded.f !== print) {
    throw problems.validation(
      [{ path: "query.cursor", message: "Cursor does not belong to this search" }],
      "The cursor is malformed or was issued for a different query, filter or sort.",
    );
  }
  return { print, after: decoded.k };
}

/**
 * Full-text search with disjunctive facets. At most two D1 round trips: the vocabulary lookup
 * that resolves prefixes and typos (with the facet dictionary when filtering), then one batch
 * with the page and the matching docs' facet codes. The total and the facet counts come from one pass over those codes
 * ({@link countFacets}): each facet with a selection is counted with every other facet's
 * selection applied but not its own, so shoppers can widen a choice.
 */
export async function searchProducts(
  db: D1Database,
  input: SearchInput,
  timing?: Pick<ServerTiming, "measure">,
): Promise<SearchResult> {
  const d1 = <T>(fn: () => Promise<T>) => (timing ? timing.measure("d1", fn) : fn());
  const { print, after } = readCursor(input);
  // Round trip 1: the vocabulary (typos, prefixes) and, when filtering, the facet dictionary.
  const selections = selectionsOf(input);
  const prepared = prepareQuery(db, input.q);
  const dictionarySql = db.prepare(
    "SELECT id, facet, value, doc_count FROM search_facet_values WHERE doc_count > 0",
  );
  const early = selections.length > 0 ? [dictionarySql] : [];
  const first =
    prepared.statements.length + early.length > 0
      ? await d1(() => db.batch([...prepared.statements, ...early]))
      : [];
  const parsed = prepared.finish(first);
  const hasText = parsed.match !== null;
  const earlyValues = early.length > 0 ? ((first[first.length - 1]?.results ?? []) as DictionaryRow[]) : null;
  const dictionary = new Map((earlyValues ?? []).map((row) => [dictionaryKey(row.facet, row.value), row]));
  const groups = filterGroups(selections, dictionary, hasText);
  // A min/max price range is a plain filter on everything, price buckets included.
  const range =
    input.min_price !== undefined || input.max_price !== undefined
      ? [input.currency, input.min_price ?? 0, input.max_price ?? Number.MAX_SAFE_INTEGER]
      : null;

  const [k1, k2, direction] = sortKeys(input.sort, hasText);
  const filters = where([...groups, ...(range ? [{ sql: PRICE_IN_RANGE, params: range }] : [])]);
  const pageParams: unknown[] = [];
  let from: string;
  if (hasText) {
    from = `(SELECT rowid AS doc_id, bm25(search_fts, ${BM25_WEIGHTS.join(", ")}) AS score FROM search_fts WHERE search_fts MATCH ?) h
      CROSS JOIN search_docs d ON d.doc_id = h.doc_id`;
    pageParams.push(parsed.match);
  } else {
    from = "search_docs d";
  }
  pageParams.push(input.currency, ...filters.params);
  let keyset = "";
  if (after) {
    keyset = ` AND (${k1}, ${k2}, d.doc_id) ${direction === "ASC" ? ">" : "<"} (?, ?, ?)`;
    pageParams.push(...after);
  }
  pageParams.push(input.limit + 1);
  const pageSql = `SELECT d.doc_id, d.product_id, d.slug, d.title, d.brand, d.thumbnail_url, d.in_stock, pr.amount,
      ${k1} AS k1, ${k2} AS k2
    FROM ${from} LEFT JOIN search_doc_prices pr ON pr.doc_id = d.doc_id AND pr.currency = ?
    WHERE ${filters.sql}${keyset}
    ORDER BY ${k1} ${direction}, ${k2} ${direction}, d.doc_id ${direction} LIMIT ?`;

  // Facet codes of the docs that can count: those the text (and price range) match and that
  // miss at most one selection (a doc missing two counts nowhere). The selections themselves
  // are applied while counting, so one scan serves every facet. Browsing a price range starts
  // from the (currency, amount) index, so a narrow range reads only its own docs.
  let source: string;
  const conditions: string[] = [];
  const codeParams: unknown[] = [];
  if (hasText) {
    source =
      "(SELECT rowid AS doc_id FROM search_fts WHERE search_fts MATCH ?) m CROSS JOIN search_docs d ON d.doc_id = m.doc_id";
    codeParams.push(parsed.match);
    if (range) {
      conditions.push(PRICE_IN_RANGE);
      codeParams.push(...range);
    }
  } else if (range) {
    source = "search_doc_prices p CROSS JOIN search_docs d ON d.doc_id = p.doc_id";
    conditions.push("p.currency = ? AND p.amount BETWEEN ? AND ?");
    codeParams.push(...range);
  } else {
    source = "search_docs d";
  }
  // Browsing with a single selection: only the docs inside it are read, and the selected
  // facet's own counts (which ignore the selection) are the catalog-wide totals.
  const totalsFor = !hasText && !range && groups.length === 1 ? groups[0]?.facet : undefined;
  if (groups.length > 1 || totalsFor) {
    conditions.push(`(${groups.map((g) => `(${g.sql})`).join(" + ")}) >= ${Math.max(1, groups.length - 1)}`);
    codeParams.push(...groups.flatMap((g) => g.params));
  }
  // Browsing the whole catalog needs no counting: the triggers keep every value's doc count.
  const unfiltered = !hasText && !range && selections.length === 0;
  const codes = unfiltered
    ? db.prepare("SELECT NULL AS codes, count(*) AS total FROM search_docs")
    : db
        .prepare(
          `SELECT group_concat(d.facet_codes, '${DOC_SEPARATOR}') AS codes, NULL AS total FROM ${source}
           ${conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : ""} GROUP BY d.doc_id / ${DOCS_PER_CHUNK}`,
        )
        .bind(...codeParams);

  // Round trip 2: the page, the matching docs' facet codes, and labels.
  const [page, chunks, categories, late] = await d1(() =>
    db.batch([
      db.prepare(pageSql).bind(...pageParams),
      codes,
      db.prepare("SELECT slug, name FROM categories"),
      ...(earlyValues ? [] : [dictionarySql]),
    ]),
  );
  const chunkRows = (chunks?.results ?? []) as { codes: string | null; total: number | null }[];
  const values = earlyValues ?? ((late?.results ?? []) as DictionaryRow[]);
  const { total, counts } = unfiltered
    ? { total: chunkRows[0]?.total ?? 0, counts: facetTotals(values) }
    : countFacets(
        chunkRows.map((row) => row.codes ?? ""),
        values,
        selections,
      );
  if (totalsFor) {
    const totals = facetTotals(values).get(totalsFor);
    if (totals) counts.set(totalsFor, totals);
    else counts.delete(totalsFor);
  }

  return presentResult({
    input,
    print,
    corrections: parsed.corrections,
    hasText,
    rows: (page?.results ?? []) as PageRow[],
    total,
    counts,
    categories: (categories?.results ?? []) as { slug: string; name: string }[],
  });
}

/** A result row as both search paths (D1 and replicas) produce it. */
export interface PageRow {
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
}

/** Turns a page (with one extra row when there is more), the total and facet counts into the response. */
export function presentResult(found: {
  input: SearchInput;
  print: string;
  corrections: Correction[];
  hasText: boolean;
  rows: PageRow[];
  total: number;
  counts: Map<string, Map<string, number>>;
  categories: { slug: string; name: string }[];
}): SearchResult {
  const { input, print, rows, total, counts, hasText } = found;
  const priceName = priceFacet(input.currency);
  const more = rows.length > input.limit;
  const pageRows = rows.slice(0, input.limit);
  const lastRow = pageRows[pageRows.length - 1];
  const nextCursor =
    more && lastRow
      ? encodeCursor({ s: input.sort, f: print, k: [lastRow.k1, lastRow.k2, lastRow.doc_id] })
      : null;

  const categoryNames = new Map(found.categories.map((row) => [row.slug, row.name]));
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
      corrections: found.corrections,
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
    total,
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
