import { z } from "@hono/zod-openapi";
import type { CatalogChangedEvent } from "../catalog/events";
import { log } from "../lib/logging";
import { decodeCursor, encodeCursor } from "../lib/schemas";
import { type DocumentText, loadCategoryTree, loadDocuments, type SearchDocument } from "./documents";
import { markSearchIndexChanged } from "./result-cache";
import { rebuildSuggestIndex, refreshSuggestShards, shardKeysOf } from "./suggest";
import { deletionVariants, MIN_CORRECTABLE_LENGTH, wordSet } from "./text";

/** Products per indexing chunk: keeps each JSON parameter well under D1's 2 MB value limit. */
export const INDEX_CHUNK_SIZE = 250;

interface StoredDoc {
  doc_id: number;
  product_id: string;
  revision: number;
  title: string | null;
  brand: string | null;
  categories: string | null;
  attributes: string | null;
  description: string | null;
}

/** Words that feed the typo vocabulary: every text column except SKU codes. */
const vocabularyOf = (text: Partial<Record<keyof DocumentText, string | null>>) =>
  wordSet(
    text.title ?? "",
    text.brand ?? "",
    text.categories ?? "",
    text.attributes ?? "",
    text.description ?? "",
  );

/** Words that feed autocomplete: what a shopper would type to find the product. */
const suggestibleOf = (text: Partial<Record<keyof DocumentText, string | null>>) =>
  wordSet(text.title ?? "", text.brand ?? "", text.categories ?? "");

async function readStored(db: D1Database, productIds: string[]): Promise<Map<string, StoredDoc>> {
  if (productIds.length === 0) return new Map();
  const { results } = await db
    .prepare(
      `SELECT d.doc_id, d.product_id, d.revision, f.title, f.brand, f.categories, f.attributes, f.description
       FROM search_docs d LEFT JOIN search_fts f ON f.rowid = d.doc_id
       WHERE d.product_id IN (SELECT value FROM json_each(?1))`,
    )
    .bind(JSON.stringify(productIds))
    .all<StoredDoc>();
  return new Map(results.map((row) => [row.product_id, row]));
}

function vocabularyStatements(db: D1Database, deltas: Map<string, number>): D1PreparedStatement[] {
  const changed = [...deltas].filter(([, delta]) => delta !== 0);
  if (changed.length === 0) return [];
  const payload = JSON.stringify(changed);
  const added = changed.filter(
    ([term, delta]) => delta > 0 && Array.from(term).length >= MIN_CORRECTABLE_LENGTH,
  );
  const spellings = added.flatMap(([term]) => deletionVariants(term).map((variant) => [variant, term]));
  const statements = [
    db
      .prepare(
        `INSERT INTO search_terms (term, df) SELECT j.value->>0, j.value->>1 FROM json_each(?1) j WHERE true
         ON CONFLICT(term) DO UPDATE SET df = df + excluded.df`,
      )
      .bind(payload),
    db
      .prepare("DELETE FROM search_terms WHERE df <= 0 AND term IN (SELECT j.value->>0 FROM json_each(?1) j)")
      .bind(payload),
  ];
  if (spellings.length > 0) {
    // Spelling rows of words that later leave the vocabulary stay behind harmlessly: lookups
    // join search_terms, so they can only ever propose live words.
    statements.push(
      db
        .prepare(
          "INSERT OR IGNORE INTO search_spellings (variant, term) SELECT j.value->>0, j.value->>1 FROM json_each(?1) j",
        )
        .bind(JSON.stringify(spellings)),
    );
  }
  return statements;
}

function addDelta(deltas: Map<string, number>, terms: Iterable<string>, sign: 1 | -1) {
  for (const term of terms) deltas.set(term, (deltas.get(term) ?? 0) + sign);
}

/**
 * Writes documents and removes products in one atomic D1 batch: docs, FTS rows, facets, prices
 * and the vocabulary move together. A document older than the stored revision is skipped, and
 * every dependent write is keyed on the revision it carries, so a slow, stale writer racing a
 * newer one cannot clobber the newer FTS row or facets. Returns the suggestion shards touched.
 */
export async function writeDocuments(
  db: D1Database,
  docs: SearchDocument[],
  removeIds: string[],
  inStockOf: (productId: string) => boolean = () => true,
): Promise<{ written: number; removed: number; shards: Set<string> }> {
  const stored = await readStored(db, [...docs.map((doc) => doc.product_id), ...removeIds]);
  const fresh = docs.filter((doc) => (stored.get(doc.product_id)?.revision ?? -1) <= doc.revision);
  const removing = removeIds.filter((id) => stored.has(id));
  const deltas = new Map<string, number>();
  const shards = new Set<string>();
  for (const doc of fresh) {
    const old = stored.get(doc.product_id);
    if (old) {
      addDelta(deltas, vocabularyOf(old), -1);
      for (const key of shardKeysOf(suggestibleOf(old))) shards.add(key);
    }
    addDelta(deltas, vocabularyOf(doc.text), 1);
    for (const key of shardKeysOf(suggestibleOf(doc.text))) shards.add(key);
  }
  for (const id of removing) {
    const old = stored.get(id);
    if (!old) continue;
    addDelta(deltas, vocabularyOf(old), -1);
    for (const key of shardKeysOf(suggestibleOf(old))) shards.add(key);
  }

  const statements: D1PreparedStatement[] = [];
  if (fresh.length > 0) {
    const now = Date.now();
    const payload = JSON.stringify(
      fresh.map((doc) => ({
        product_id: doc.product_id,
        slug: doc.slug,
        title: doc.title,
        brand: doc.brand,
        thumbnail_url: doc.thumbnail_url,
        popularity: doc.popularity,
        boost: doc.boost,
        in_stock: inStockOf(doc.product_id) ? 1 : 0,
        created_at: doc.created_at,
        revision: doc.revision,
        text: doc.text,
      })),
    );
    // Rows of this payload whose stored revision is exactly the one we carry.
    const touched = `SELECT d.doc_id FROM json_each(?1) j JOIN search_docs d
      ON d.product_id = j.value->>'product_id' AND d.revision = j.value->>'revision'`;
    statements.push(
      db
        .prepare(
          `INSERT INTO search_docs (product_id, slug, title, brand, thumbnail_url, popularity, boost, in_stock, created_at, revision, indexed_at)
           SELECT j.value->>'product_id', j.value->>'slug', j.value->>'title', j.value->>'brand', j.value->>'thumbnail_url',
             j.value->>'popularity', j.value->>'boost', j.value->>'in_stock', j.value->>'created_at', j.value->>'revision', ?2
           FROM json_each(?1) j WHERE true
           ON CONFLICT(product_id) DO UPDATE SET slug = excluded.slug, title = excluded.title, brand = excluded.brand,
             thumbnail_url = excluded.thumbnail_url, popularity = excluded.popularity, boost = excluded.boost,
             created_at = excluded.created_at, revision = excluded.revision, indexed_at = excluded.indexed_at
           WHERE excluded.revision >= search_docs.revision`,
        )
        .bind(payload, now),
      db.prepare(`DELETE FROM search_fts WHERE rowid IN (${touched})`).bind(payload),
      db
        .prepare(
          `INSERT INTO search_fts (rowid, title, brand, skus, categories, attributes, description)
           SELECT d.doc_id, j.value->'text'->>'title', j.value->'text'->>'brand', j.value->'text'->>'skus',
             j.value->'text'->>'categories', j.value->'text'->>'attributes', j.value->'text'->>'description'
           FROM json_each(?1) j JOIN search_docs d ON d.product_id = j.value->>'product_id' AND d.revision = j.value->>'revision'`,
        )
        .bind(payload),
      db.prepare(`DELETE FROM search_doc_facets WHERE doc_id IN (${touched})`).bind(payload),
      db.prepare(`DELETE FROM search_doc_prices WHERE doc_id IN (${touched})`).bind(payload),
      db
        .prepare(
          `INSERT INTO search_doc_facets (facet, value, doc_id)
           SELECT 'availability', CASE WHEN d.in_stock THEN 'in_stock' ELSE 'sold_out' END, d.doc_id FROM json_each(?1) j
           JOIN search_docs d ON d.product_id = j.value->>'product_id' AND d.revision = j.value->>'revision'`,
        )
        .bind(payload),
    );
    const facetRows = fresh.flatMap((doc) =>
      doc.facets.map(([facet, value]) => [doc.product_id, doc.revision, facet, value]),
    );
    if (facetRows.length > 0) {
      statements.push(
        db
          .prepare(
            `INSERT OR IGNORE INTO search_doc_facets (facet, value, doc_id)
             SELECT j.value->>2, j.value->>3, d.doc_id FROM json_each(?1) j
             JOIN search_docs d ON d.product_id = j.value->>0 AND d.revision = j.value->>1`,
          )
          .bind(JSON.stringify(facetRows)),
      );
    }
    const priceRows = fresh.flatMap((doc) =>
      doc.prices.map(([currency, amount]) => [doc.product_id, doc.revision, currency, amount]),
    );
    if (priceRows.length > 0) {
      statements.push(
        db
          .prepare(
            `INSERT OR REPLACE INTO search_doc_prices (doc_id, currency, amount)
             SELECT d.doc_id, j.value->>2, j.value->>3 FROM json_each(?1) j
             JOIN search_docs d ON d.product_id = j.value->>0 AND d.revision = j.value->>1`,
          )
          .bind(JSON.stringify(priceRows)),
      );
    }
  }
  if (removing.length > 0) {
    const ids = JSON.stringify(removing);
    const docIds = "SELECT doc_id FROM search_docs WHERE product_id IN (SELECT value FROM json_each(?1))";
    statements.push(
      db.prepare(`DELETE FROM search_fts WHERE rowid IN (${docIds})`).bind(ids),
      db.prepare(`DELETE FROM search_doc_facets WHERE doc_id IN (${docIds})`).bind(ids),
      db.prepare(`DELETE FROM search_doc_prices WHERE doc_id IN (${docIds})`).bind(ids),
      db.prepare("DELETE FROM search_docs WHERE product_id IN (SELECT value FROM json_each(?1))").bind(ids),
    );
  }
  statements.push(...vocabularyStatements(db, deltas));
  if (statements.length > 0) await db.batch(statements);
  return { written: fresh.length, removed: removing.length, shards };
}

/**
 * Re-reads `productIds` from the catalog and brings their search documents (and the
 * autocomplete shards their words fall in) up to date. Idempotent.
 */
export async function reindexProducts(
  env: Env,
  productIds: string[],
): Promise<{ written: number; removed: number }> {
  const tree = await loadCategoryTree(env.DB);
  let written = 0;
  let removed = 0;
  const shards = new Set<string>();
  for (let i = 0; i < productIds.length; i += INDEX_CHUNK_SIZE) {
    const chunk = productIds.slice(i, i + INDEX_CHUNK_SIZE);
    const { docs, inactive } = await loadDocuments(env.DB, chunk, tree);
    const result = await writeDocuments(env.DB, docs, inactive);
    written += result.written;
    removed += result.removed;
    for (const key of result.shards) shards.add(key);
  }
  await refreshSuggestShards(env, shards);
  if (written + removed > 0) await markSearchIndexChanged(env);
  return { written, removed };
}

/** Products filed under `categoryId` or any of its descendants. */
async function productsInCategoryTree(db: D1Database, categoryId: string): Promise<string[]> {
  const { results } = await db
    .prepare(
      `WITH RECURSIVE tree(id) AS (SELECT ?1 UNION SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id)
       SELECT DISTINCT product_id FROM product_categories WHERE category_id IN (SELECT id FROM tree)`,
    )
    .bind(categoryId)
    .all<{ product_id: string }>();
  return results.map((row) => row.product_id);
}

/**
 * Applies one `catalog.changed` event to the search index. The integrator calls this from the
 * catalog queue consumer, once per message. It always re-reads D1, so it is idempotent and
 * safe to replay; an event whose revision the index already holds is skipped without reading
 * the catalog. Category events re-index every product in the category's subtree (names and
 * ancestors feed text and facets) and refresh category suggestions.
 */
export async function handleSearchIndexEvent(
  env: Env,
  event: CatalogChangedEvent,
): Promise<{ applied: boolean; written: number; removed: number }> {
  return handleSearchIndexEvents(env, [event]);
}

/**
 * The batch form of `handleSearchIndexEvent`, for a queue batch: products named several times
 * are indexed once and each autocomplete shard is rewritten once, which keeps bulk catalog
 * imports under KV's one-write-per-second-per-key limit.
 */
export async function handleSearchIndexEvents(
  env: Env,
  events: CatalogChangedEvent[],
): Promise<{ applied: boolean; written: number; removed: number }> {
  const latest = new Map<string, CatalogChangedEvent>();
  const categoryIds = new Set<string>();
  for (const event of events) {
    if (event.entity === "category") categoryIds.add(event.entity_id);
    else if ((latest.get(event.entity_id)?.revision ?? -1) <= event.revision)
      latest.set(event.entity_id, event);
  }
  const productIds = new Set<string>();
  if (latest.size > 0) {
    const { results } = await env.DB.prepare(
      "SELECT product_id, revision FROM search_docs WHERE product_id IN (SELECT value FROM json_each(?1))",
    )
      .bind(JSON.stringify([...latest.keys()]))
      .all<{ product_id: string; revision: number }>();
    const held = new Map(results.map((row) => [row.product_id, row.revision]));
    for (const [id, event] of latest) {
      const removal = event.change === "archived" || event.change === "deleted";
      const current = held.get(id);
      if (current !== undefined && current >= event.revision && !removal) continue;
      productIds.add(id);
    }
  }
  for (const categoryId of categoryIds) {
    for (const id of await productsInCategoryTree(env.DB, categoryId)) productIds.add(id);
  }
  if (productIds.size === 0 && categoryIds.size === 0) return { applied: false, written: 0, removed: 0 };
  const result = await reindexProducts(env, [...productIds]);
  return { applied: true, ...result };
}

const RebuildCursorSchema = z.object({
  phase: z.enum(["products", "sweep", "shards"]),
  after: z.string(),
});
export type RebuildCursor = z.infer<typeof RebuildCursorSchema>;

/** Wall-clock budget per rebuild call: keeps each request far inside Workers' CPU limits. */
export const REBUILD_BUDGET_MS = 10_000;

export interface RebuildProgress {
  done: boolean;
  /** Pass back to continue; null when done. */
  next_cursor: string | null;
  indexed: number;
  removed: number;
  shards: number;
  duration_ms: number;
}

/** Parses a rebuild cursor from the admin route; null when it is not one of ours. */
export function decodeRebuildCursor(cursor: string): RebuildCursor | null {
  return decodeCursor(cursor, RebuildCursorSchema);
}

/**
 * Rebuilds the index from the catalog in resumable steps, each bounded by `budgetMs`: upserts
 * every active product (keyset order by id), then sweeps out documents whose product is no
 * longer active, then rewrites every autocomplete shard. Documents are replaced in place, so
 * searches keep working throughout and known availability survives. Call again with
 * `next_cursor` until `done` (the seed script and the admin route do).
 */
export async function rebuildSearchIndex(
  env: Env,
  options: { cursor?: RebuildCursor | null; budgetMs?: number; chunkSize?: number } = {},
): Promise<RebuildProgress> {
  const started = Date.now();
  const budget = options.budgetMs ?? REBUILD_BUDGET_MS;
  const chunkSize = options.chunkSize ?? INDEX_CHUNK_SIZE;
  const db = env.DB;
  let cursor: RebuildCursor = options.cursor ?? { phase: "products", after: "" };
  let indexed = 0;
  let removed = 0;
  let shards = 0;
  const tree = await loadCategoryTree(db);
  // Every call makes at least one step of progress, however small the budget.
  let stepped = false;
  const inBudget = () => {
    const go = !stepped || Date.now() - started < budget;
    stepped = true;
    return go;
  };

  while (cursor.phase === "products" && inBudget()) {
    const { results } = await db
      .prepare("SELECT id FROM products WHERE status = 'active' AND id > ?1 ORDER BY id LIMIT ?2")
      .bind(cursor.after, chunkSize)
      .all<{ id: string }>();
    const last = results[results.length - 1]?.id;
    if (!last) {
      cursor = { phase: "sweep", after: "" };
      break;
    }
    const { docs } = await loadDocuments(
      db,
      results.map((row) => row.id),
      tree,
    );
    indexed += (await writeDocuments(db, docs, [])).written;
    cursor = { phase: "products", after: last };
  }
  while (cursor.phase === "sweep" && inBudget()) {
    const { results } = await db
      .prepare(
        `SELECT d.product_id FROM search_docs d LEFT JOIN products p ON p.id = d.product_id
         WHERE d.product_id > ?1 AND (p.id IS NULL OR p.status != 'active') ORDER BY d.product_id LIMIT ?2`,
      )
      .bind(cursor.after, chunkSize)
      .all<{ product_id: string }>();
    const last = results[results.length - 1]?.product_id;
    if (!last) {
      cursor = { phase: "shards", after: "" };
      break;
    }
    removed += (
      await writeDocuments(
        db,
        [],
        results.map((row) => row.product_id),
      )
    ).removed;
    cursor = { phase: "sweep", after: last };
  }
  let done = false;
  while (cursor.phase === "shards" && inBudget()) {
    const step = await rebuildSuggestIndex(env, cursor.after, 64);
    shards += step.built;
    if (step.next === null) {
      done = true;
      break;
    }
    cursor = { phase: "shards", after: step.next };
  }
  if (indexed + removed > 0) await markSearchIndexChanged(env);
  const duration = Date.now() - started;
  log("info", "search_index_rebuild_step", {
    phase: cursor.phase,
    indexed,
    removed,
    shards,
    done,
    duration_ms: duration,
  });
  return {
    done,
    next_cursor: done ? null : encodeCursor(cursor),
    indexed,
    removed,
    shards,
    duration_ms: duration,
  };
}

/** Runs `rebuildSearchIndex` to completion in-process (tests, scripts with no request limits). */
export async function rebuildSearchIndexFully(env: Env): Promise<Omit<RebuildProgress, "next_cursor">> {
  const total = { done: false, indexed: 0, removed: 0, shards: 0, duration_ms: 0 };
  let cursor: RebuildCursor | null = null;
  while (!total.done) {
    const step = await rebuildSearchIndex(env, { cursor });
    total.done = step.done;
    total.indexed += step.indexed;
    total.removed += step.removed;
    total.shards += step.shards;
    total.duration_ms += step.duration_ms;
    cursor = step.next_cursor ? decodeRebuildCursor(step.next_cursor) : null;
  }
  return total;
}

/**
 * Sets products' availability in the index (the `in_stock` boost and the availability
 * facet). Products are in stock when any of their active SKUs is not sold out. `lookup` is the
 * inventory domain's `getAvailability` (snapshot-backed); it is injected so this module does
 * not depend on inventory internals.
 */
export async function syncSearchAvailability(
  env: Env,
  skus: string[],
  lookup: (env: Env, skus: string[]) => Promise<Record<string, { status: "in_stock" | "low" | "sold_out" }>>,
): Promise<{ updated: number }> {
  if (skus.length === 0) return { updated: 0 };
  const { results } = await env.DB.prepare(
    `SELECT v.product_id, v.sku FROM variants v WHERE v.status = 'active' AND v.product_id IN
       (SELECT product_id FROM variants WHERE sku IN (SELECT value FROM json_each(?1)))`,
  )
    .bind(JSON.stringify(skus))
    .all<{ product_id: string; sku: string }>();
  const statuses = await lookup(
    env,
    results.map((row) => row.sku),
  );
  const inStock = new Map<string, boolean>();
  for (const { product_id, sku } of results) {
    const available = statuses[sku]?.status !== undefined && statuses[sku]?.status !== "sold_out";
    inStock.set(product_id, (inStock.get(product_id) ?? false) || available);
  }
  return setProductAvailability(
    env,
    [...inStock].map(([product_id, in_stock]) => ({ product_id, in_stock })),
  );
}

/** Writes `in_stock` for products already in the index (others are ignored). */
export async function setProductAvailability(
  env: Env,
  updates: { product_id: string; in_stock: boolean }[],
): Promise<{ updated: number }> {
  if (updates.length === 0) return { updated: 0 };
  const db = env.DB;
  const payload = JSON.stringify(updates.map((u) => [u.product_id, u.in_stock ? 1 : 0]));
  const docIds =
    "SELECT d.doc_id FROM search_docs d WHERE d.product_id IN (SELECT j.value->>0 FROM json_each(?1) j)";
  const [updated] = await db.batch([
    db
      .prepare(
        `UPDATE search_docs SET in_stock = j.value->>1 FROM json_each(?1) j
         WHERE search_docs.product_id = j.value->>0 AND search_docs.in_stock != j.value->>1`,
      )
      .bind(payload),
    db
      .prepare(`DELETE FROM search_doc_facets WHERE facet = 'availability' AND doc_id IN (${docIds})`)
      .bind(payload),
    db
      .prepare(
        `INSERT INTO search_doc_facets (facet, value, doc_id)
         SELECT 'availability', CASE WHEN d.in_stock THEN 'in_stock' ELSE 'sold_out' END, d.doc_id FROM search_docs d
         WHERE d.product_id IN (SELECT j.value->>0 FROM json_each(?1) j)`,
      )
      .bind(payload),
  ]);
  const changed = updated?.meta.changes ?? 0;
  if (changed > 0) await markSearchIndexChanged(env);
  return { updated: changed };
}
