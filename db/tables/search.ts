import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * One row per searchable (active) product: what results, sorts and keyset cursors need,
 * so a search never joins the catalog tables. `doc_id` is also the rowid of the product's
 * row in the `search_fts` FTS5 table (raw-SQL migration `search_fts`).
 */
export const searchDocs = sqliteTable(
  "search_docs",
  {
    docId: integer("doc_id").primaryKey(),
    productId: text("product_id").notNull(),
    slug: text("slug").notNull(),
    title: text("title").notNull(),
    brand: text("brand").notNull().default(""),
    thumbnailUrl: text("thumbnail_url"),
    popularity: integer("popularity").notNull().default(0),
    /** Multiplier (≥ 1) applied to the bm25 score, derived from popularity at index time. */
    boost: real("boost").notNull().default(1),
    /** Maintained from the inventory snapshot; unknown stock counts as in stock until told otherwise. */
    inStock: integer("in_stock", { mode: "boolean" }).notNull().default(true),
    /** Product `created_at` (epoch ms), for the `newest` sort. */
    createdAt: integer("created_at").notNull(),
    /** Catalog revision this row reflects; events at or below it are already applied. */
    revision: integer("revision").notNull(),
    indexedAt: integer("indexed_at").notNull(),
    /**
     * The doc's facet memberships as one character per `search_facet_values` id (code point
     * id + 255), kept by triggers on `search_doc_facets`: facet counting reads one short string
     * per matching doc instead of grouping ~15 facet rows per doc in SQL.
     */
    facetCodes: text("facet_codes").notNull().default(""),
  },
  (t) => [
    uniqueIndex("search_docs_product_unique").on(t.productId),
    index("search_docs_created_idx").on(t.createdAt, t.docId),
    index("search_docs_popularity_idx").on(t.inStock, t.popularity, t.docId),
  ],
);

/**
 * Facet memberships: `category` (slug, ancestors included), `brand`, `attr:<name>`,
 * `availability` (`in_stock` | `sold_out`) and `price:<CURRENCY>` (bucket key). The primary
 * key serves filters (facet, value → docs); the doc index serves counting.
 */
export const searchDocFacets = sqliteTable(
  "search_doc_facets",
  {
    facet: text("facet").notNull(),
    value: text("value").notNull(),
    docId: integer("doc_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.facet, t.value, t.docId] }),
    index("search_doc_facets_doc_idx").on(t.docId, t.facet, t.value),
  ],
);

/**
 * Dictionary of facet values, append-only: an id, once given, always names the same
 * (facet, value), so `search_docs.facet_codes` never needs rewriting when values come and go.
 */
export const searchFacetValues = sqliteTable(
  "search_facet_values",
  {
    id: integer("id").primaryKey(),
    facet: text("facet").notNull(),
    value: text("value").notNull(),
    /** Docs holding this value, kept by the same triggers: facet counts of the unfiltered catalog. */
    docCount: integer("doc_count").notNull().default(0),
  },
  (t) => [uniqueIndex("search_facet_values_unique").on(t.facet, t.value)],
);

/** Lowest active-variant price of a product per currency, for price filters and sorts. */
export const searchDocPrices = sqliteTable(
  "search_doc_prices",
  {
    docId: integer("doc_id").notNull(),
    currency: text("currency").notNull(),
    amount: integer("amount").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.docId, t.currency] }),
    index("search_doc_prices_currency_idx").on(t.currency, t.amount, t.docId),
  ],
);

/** Vocabulary of indexed words with document frequency: typo candidates and query suggestions. */
export const searchTerms = sqliteTable("search_terms", {
  term: text("term").primaryKey(),
  df: integer("df").notNull(),
});

/**
 * Symmetric-delete spelling index: every vocabulary word of ≥ 4 letters under itself and each
 * of its one-letter deletions. A query word finds its edit-distance-1 neighbours by looking
 * up its own deletions here: index probes only, no scan.
 */
export const searchSpellings = sqliteTable(
  "search_spellings",
  {
    variant: text("variant").notNull(),
    term: text("term").notNull(),
  },
  (t) => [primaryKey({ columns: [t.variant, t.term] })],
);

/** Queries that found nothing, counted per normalised query, for merchandisers. */
export const searchZeroResults = sqliteTable(
  "search_zero_results",
  {
    query: text("query").primaryKey(),
    count: integer("count").notNull(),
    /** The last raw text a shopper typed for this normalised query. */
    example: text("example").notNull(),
    firstSeenAt: integer("first_seen_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
  },
  (t) => [index("search_zero_results_count_idx").on(t.count, t.query)],
);

/**
 * The search index's change feed (migration 0014, kept by triggers on `search_docs`): one row
 * per product with the sequence number of its latest change. Search replicas pull it.
 */
export const searchChanges = sqliteTable(
  "search_changes",
  {
    productId: text("product_id").primaryKey(),
    seq: integer("seq").notNull(),
  },
  (t) => [uniqueIndex("search_changes_seq_idx").on(t.seq)],
);
