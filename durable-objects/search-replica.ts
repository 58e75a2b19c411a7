import { DurableObject } from "cloudflare:workers";
import { log } from "../workers/lib/logging";
import {
  type EngineQuery,
  type EngineRow,
  MemoryIndex,
  type ReplicaDocFields,
  type TextMatches,
} from "../workers/search/replica-engine";
import { BM25_WEIGHTS } from "../workers/search/service";
import { applyStorageMigrations } from "./storage-migrations";

/**
 * One search replica: a full copy of the search index (documents and an FTS5 table in its
 * own SQLite, the filterable fields in memory) that answers searches without touching D1.
 * Several replicas share the query load (workers/search/replicas.ts picks one per query).
 *
 * D1 stays the index of record: the indexer writes it exactly as before, and triggers log
 * every document change in `search_changes` (migration 0014). A replica pulls the changes
 * after the last sequence number it applied, before answering, whenever the index
 * generation the caller read from KV differs from the one it last caught up with, or
 * {@link SYNC_INTERVAL_MS} has passed. Its bm25 scores are those of D1's index, document for
 * document (same rows, same tokenizer, same statistics), so it ranks exactly as D1 does.
 */
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE docs (
      doc_id INTEGER PRIMARY KEY,
      product_id TEXT NOT NULL UNIQUE,
      slug TEXT NOT NULL,
      title TEXT NOT NULL,
      brand TEXT NOT NULL,
      thumbnail_url TEXT,
      popularity REAL NOT NULL,
      boost REAL NOT NULL,
      in_stock INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      facets TEXT NOT NULL,
      prices TEXT NOT NULL
    )`,
    // Same columns, tokenizer and prefix indexes as D1's search_fts (migration 0006).
    `CREATE VIRTUAL TABLE fts USING fts5(title, brand, skus, categories, attributes, description,
      tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')`,
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  ],
];

/** Changes pulled per D1 query. */
const PULL_CHUNK = 500;
/** Chunks a search may pull before answering; more backlog than that is caught up by the alarm. */
const SEARCH_PULL_CHUNKS = 4;
/** Chunks per alarm run or admin sync step. */
const BACKGROUND_PULL_CHUNKS = 40;
/** A replica checks D1 for changes at least this often while it serves searches. */
export const SYNC_INTERVAL_MS = 10_000;
/** Text matches kept in memory (doc ids across all entries), cleared by any text change. */
const MATCH_CACHE_IDS = 2_000_000;

export interface ReplicaSearchRequest extends Omit<EngineQuery, "after"> {
  after: [number, number, number] | null;
  /** FTS5 expression from workers/search/query.ts, or null to browse. */
  match: string | null;
  /** The index generation the caller read (result-cache.ts); a new one triggers a pull. */
  generation: string;
}

export interface ReplicaHit extends EngineRow {
  product_id: string;
  slug: string;
  title: string;
  brand: string;
  thumbnail_url: string | null;
}

export type ReplicaSearchResult =
  | { ok: true; total: number; counts: [string, string, number][]; rows: ReplicaHit[] }
  | { ok: false; reason: "catching_up" };

export interface ReplicaStatus {
  /** Last change sequence number applied. */
  seq: number;
  docs: number;
  caught_up: boolean;
  /** Changes applied by this call. */
  applied: number;
}

interface ChangeRow {
  seq: number;
  product_id: string;
  doc_id: number | null;
  slug: string | null;
  title: string | null;
  brand: string | null;
  thumbnail_url: string | null;
  popularity: number | null;
  boost: number | null;
  in_stock: number | null;
  created_at: number | null;
  t_title: string | null;
  t_brand: string | null;
  skus: string | null;
  categories: string | null;
  attributes: string | null;
  description: string | null;
  facets: string | null;
  prices: string | null;
}

/** Changes after a sequence number, each with the document's current state (null: removed). */
const CHANGES_SQL = `SELECT c.seq, c.product_id, d.doc_id, d.slug, d.title, d.brand, d.thumbnail_url, d.popularity,
    d.boost, d.in_stock, d.created_at, f.title AS t_title, f.brand AS t_brand, f.skus, f.categories, f.attributes,
    f.description,
    (SELECT json_group_array(json_array(x.facet, x.value)) FROM search_doc_facets x
      WHERE x.doc_id = d.doc_id AND x.facet != 'availability') AS facets,
    (SELECT json_group_object(p.currency, p.amount) FROM search_doc_prices p WHERE p.doc_id = d.doc_id) AS prices
  FROM search_changes c LEFT JOIN search_docs d ON d.product_id = c.product_id
  LEFT JOIN search_fts f ON f.rowid = d.doc_id
  WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2`;

export class SearchReplicaObject extends DurableObject<Env> {
  private memory: MemoryIndex | null = null;
  private readonly matches = new Map<string, TextMatches>();
  private cachedIds = 0;
  private pulling: Promise<ReplicaStatus> | null = null;
  private caughtUpGeneration: string | null = null;
  private lastPullAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => applyStorageMigrations(ctx.storage, MIGRATIONS));
  }

  private get seq(): number {
    const row = this.ctx.storage.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'seq'")
      .toArray()[0];
    return row ? Number(row.value) : 0;
  }

  /** The in-memory fields of every document, read from this replica's SQLite on first use. */
  private loaded(): MemoryIndex {
    if (this.memory) return this.memory;
    const memory = new MemoryIndex();
    const cursor = this.ctx.storage.sql.exec<{
      doc_id: number;
      popularity: number;
      boost: number;
      in_stock: number;
      created_at: number;
      facets: string;
      prices: string;
    }>("SELECT doc_id, popularity, boost, in_stock, created_at, facets, prices FROM docs");
    for (const row of cursor) {
      memory.upsert({
        ...row,
        facets: JSON.parse(row.facets) as [string, string][],
        prices: JSON.parse(row.prices) as Record<string, number>,
      });
    }
    this.memory = memory;
    return memory;
  }

  /**
   * Applies one change row (inside the pull's transaction). The FTS row is rewritten only
   * when the text differs from the stored one, so an availability or price change (the
   * common case: inventory events) keeps the cached matches. Returns whether text changed.
   */
  private apply(row: ChangeRow): boolean {
    const sql = this.ctx.storage.sql;
    const memory = this.loaded();
    const text = [row.t_title, row.t_brand, row.skus, row.categories, row.attributes, row.description].map(
      (value) => value ?? "",
    );
    const old = sql
      .exec<{
        doc_id: number;
        title: string;
        brand: string;
        skus: string;
        categories: string;
        attributes: string;
        description: string;
      }>(
        `SELECT d.doc_id, f.title, f.brand, f.skus, f.categories, f.attributes, f.description
         FROM docs d LEFT JOIN fts f ON f.rowid = d.doc_id WHERE d.product_id = ?`,
        row.product_id,
      )
      .toArray()[0];
    const sameText =
      old !== undefined &&
      row.doc_id === old.doc_id &&
      [old.title, old.brand, old.skus, old.categories, old.attributes, old.description].every(
        (value, i) => (value ?? "") === text[i],
      );
    if (old) {
      sql.exec("DELETE FROM docs WHERE doc_id = ?", old.doc_id);
      if (!sameText) sql.exec("DELETE FROM fts WHERE rowid = ?", old.doc_id);
      memory.remove(old.doc_id);
    }
    if (row.doc_id === null) return old !== undefined;
    const doc: ReplicaDocFields = {
      doc_id: row.doc_id,
      popularity: row.popularity ?? 0,
      boost: row.boost ?? 1,
      in_stock: row.in_stock ?? 1,
      created_at: row.created_at ?? 0,
      facets: JSON.parse(row.facets ?? "[]") as [string, string][],
      prices: JSON.parse(row.prices ?? "{}") as Record<string, number>,
    };
    if (!sameText) {
      // A document D1 holds under another product's doc_id cannot exist; clear it anyway.
      sql.exec("DELETE FROM docs WHERE doc_id = ?", doc.doc_id);
      sql.exec("DELETE FROM fts WHERE rowid = ?", doc.doc_id);
      sql.exec(
        "INSERT INTO fts (rowid, title, brand, skus, categories, attributes, description) VALUES (?, ?, ?, ?, ?, ?, ?)",
        doc.doc_id,
        ...text,
      );
    }
    sql.exec(
      `INSERT INTO docs (doc_id, product_id, slug, title, brand, thumbnail_url, popularity, boost, in_stock, created_at, facets, prices)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      doc.doc_id,
      row.product_id,
      row.slug ?? "",
      row.title ?? "",
      row.brand ?? "",
      row.thumbnail_url,
      doc.popularity,
      doc.boost,
      doc.in_stock,
      doc.created_at,
      JSON.stringify(doc.facets),
      JSON.stringify(doc.prices),
    );
    memory.upsert(doc);
    return !sameText;
  }

  /** Pulls up to `chunks` chunks of changes from D1 (one pull at a time per replica). */
  sync(chunks: number = BACKGROUND_PULL_CHUNKS): Promise<ReplicaStatus> {
    this.pulling ??= this.pull(chunks).finally(() => {
      this.pulling = null;
    });
    return this.pulling;
  }

  private async pull(chunks: number): Promise<ReplicaStatus> {
    const memory = this.loaded();
    const sql = this.ctx.storage.sql;
    let seq = this.seq;
    let applied = 0;
    let textChanged = false;
    let caughtUp = false;
    for (let i = 0; i < chunks; i++) {
      const { results } = await this.env.DB.prepare(CHANGES_SQL).bind(seq, PULL_CHUNK).all<ChangeRow>();
      this.ctx.storage.transactionSync(() => {
        for (const row of results) {
          if (this.apply(row)) textChanged = true;
          seq = row.seq;
        }
        if (results.length > 0)
          sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", String(seq));
      });
      applied += results.length;
      if (results.length < PULL_CHUNK) {
        caughtUp = true;
        break;
      }
    }
    if (textChanged) {
      // A text change moves bm25 statistics and match sets: cached matches are recomputed.
      // Availability, price or popularity changes leave them valid (they live in memory).
      this.matches.clear();
      this.cachedIds = 0;
    }
    this.lastPullAt = Date.now();
    if (!caughtUp) await this.ctx.storage.setAlarm(Date.now());
    return { seq, docs: memory.size, caught_up: caughtUp, applied };
  }

  /** Catches up a backlog (a new replica, a bulk import) in the background. */
  override async alarm(): Promise<void> {
    const status = await this.sync(BACKGROUND_PULL_CHUNKS);
    if (status.applied > 0 || !status.caught_up) {
      log("info", "search_replica_sync", { ...status });
    }
  }

  /**
   * Doc ids (and, for relevance, bm25 scores) of an FTS5 expression, from memory when this
   * replica ran it before. Scores cost ~6× the match itself, so only relevance asks for them.
   */
  private textMatches(match: string, scored: boolean): TextMatches {
    const hit = this.matches.get(match);
    if (hit && (hit.scores !== null || !scored)) {
      // Re-inserted: a Map iterates in insertion order, so the oldest entry is evicted first.
      this.matches.delete(match);
      this.matches.set(match, hit);
      return hit;
    }
    const sql = this.ctx.storage.sql;
    let found: TextMatches;
    if (scored) {
      const rows = sql
        .exec<{ rowid: number; score: number }>(
          `SELECT rowid, bm25(fts, ${BM25_WEIGHTS.join(", ")}) AS score FROM fts WHERE fts MATCH ?`,
          match,
        )
        .toArray();
      found = {
        ids: Int32Array.from(rows, (row) => row.rowid),
        scores: Float64Array.from(rows, (row) => row.score),
      };
    } else {
      const rows = sql.exec<{ rowid: number }>("SELECT rowid FROM fts WHERE fts MATCH ?", match).toArray();
      found = { ids: Int32Array.from(rows, (row) => row.rowid), scores: null };
    }
    if (hit) {
      this.matches.delete(match);
      this.cachedIds -= hit.ids.length;
    }
    this.matches.set(match, found);
    this.cachedIds += found.ids.length;
    for (const [key, value] of this.matches) {
      if (this.cachedIds <= MATCH_CACHE_IDS || key === match) break;
      this.matches.delete(key);
      this.cachedIds -= value.ids.length;
    }
    return found;
  }

  /**
   * One search against this replica's copy. Pulls pending changes first when the caller saw a
   * newer index generation (or the last check is old); refuses while a backlog remains, so the
   * caller answers from D1 instead of serving a partial index.
   */
  async search(request: ReplicaSearchRequest): Promise<ReplicaSearchResult> {
    if (request.generation !== this.caughtUpGeneration || Date.now() - this.lastPullAt > SYNC_INTERVAL_MS) {
      let status: ReplicaStatus;
      try {
        status = await this.sync(SEARCH_PULL_CHUNKS);
      } catch (error) {
        // D1 unreachable: a replica that has caught up before answers from its copy (stale by
        // at most the outage); the caller's own D1 lookups decide whether the search fails.
        log("warn", "search_replica_pull_failed", { error: String(error) });
        this.lastPullAt = Date.now();
        if (this.caughtUpGeneration === null) return { ok: false, reason: "catching_up" };
        status = { seq: this.seq, docs: this.loaded().size, caught_up: true, applied: 0 };
      }
      if (!status.caught_up) return { ok: false, reason: "catching_up" };
      this.caughtUpGeneration = request.generation;
    }
    const memory = this.loaded();
    const matches =
      request.match === null ? null : this.textMatches(request.match, request.sort === "relevance");
    const result = memory.evaluate(request, matches);
    const fields = new Map(
      this.ctx.storage.sql
        .exec<Omit<ReplicaHit, keyof EngineRow> & { doc_id: number }>(
          "SELECT doc_id, product_id, slug, title, brand, thumbnail_url FROM docs WHERE doc_id IN (SELECT value FROM json_each(?))",
          JSON.stringify(result.rows.map((row) => row.doc_id)),
        )
        .toArray()
        .map((row) => [row.doc_id, row]),
    );
    const rows: ReplicaHit[] = [];
    for (const row of result.rows) {
      const doc = fields.get(row.doc_id);
      if (doc) rows.push({ ...doc, ...row });
    }
    return { ok: true, total: result.total, counts: result.counts, rows };
  }
}
