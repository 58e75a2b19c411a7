import type { FacetSelection } from "./facet-counts";
import type { SearchSort } from "./service";

/**
 * The in-memory half of a search replica (durable-objects/search-replica.ts): per document
 * only what filtering, sorting and facet counting read (availability, popularity, boost,
 * creation time, prices, facet value ids), so a search is one pass over the text matches (or
 * the catalog when browsing) in plain JavaScript instead of SQL joins, sorts and
 * `group_concat`. It answers exactly as the D1 path in service.ts does: the same sort keys,
 * the same keyset cursor keys `[k1, k2, doc_id]`, the same disjunctive facet counts.
 */

/** A document as the replica stores it (and pulls it from D1's index). */
export interface ReplicaDocFields {
  doc_id: number;
  popularity: number;
  boost: number;
  in_stock: number;
  created_at: number;
  /** `[facet, value]` pairs, availability excluded (it follows `in_stock`). */
  facets: [string, string][];
  /** Currency → lowest active-variant amount. */
  prices: Record<string, number>;
}

export interface EngineQuery {
  sort: SearchSort;
  currency: string;
  /** Rows wanted: the page size plus one (to know whether there is a next page). */
  take: number;
  /** Keyset position of the previous page's last row. */
  after: [number, number, number] | null;
  selections: readonly FacetSelection[];
  /** Inclusive price range in `currency`, or null. */
  range: [number, number] | null;
}

/** Text matches: doc ids and their bm25 scores (negative: lower is better; null when not sorting by relevance). */
export interface TextMatches {
  ids: Int32Array;
  scores: Float64Array | null;
}

export interface EngineRow {
  doc_id: number;
  in_stock: number;
  amount: number | null;
  k1: number;
  k2: number;
}

export interface EngineResult {
  total: number;
  /** `[facet, value, count]`, counts above zero only. */
  counts: [string, string, number][];
  rows: EngineRow[];
}

const valueKey = (facet: string, value: string) => `${facet}\u0000${value}`;

/** Sort modes, resolved once per query so the per-document loop does not branch on strings. */
const Mode = { Relevance: 0, Popularity: 1, PriceAsc: 2, PriceDesc: 3, Newest: 4 } as const;

function grow<T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(array: T, size: number): T {
  if (size <= array.length) return array;
  const next = new (array.constructor as new (n: number) => T)(Math.max(size, array.length * 2));
  next.set(array);
  return next;
}

/**
 * Columnar storage: one slot per document in typed arrays (no object per document, so
 * 100 000 documents cost a few megabytes and no garbage collection), facet value ids in one
 * pool. Slots of removed documents are reused; the pool is compacted when half of it is stale.
 */
export class MemoryIndex {
  private readonly slotOf = new Map<number, number>();
  private readonly free: number[] = [];
  private slots = 0;
  private docId = new Int32Array(1024);
  private alive = new Uint8Array(1024);
  private inStock = new Uint8Array(1024);
  private popularity = new Float64Array(1024);
  private boost = new Float64Array(1024);
  private created = new Float64Array(1024);
  private facetStart = new Uint32Array(1024);
  private facetCount = new Uint32Array(1024);
  private pool = new Uint32Array(16384);
  private poolUsed = 0;
  private readonly prices = new Map<string, Float64Array>();
  private readonly valueIds = new Map<string, number>();
  /** Facet and value of each id; id 0 is unused. */
  private readonly facetOf: string[] = [""];
  private readonly valueOf: string[] = [""];

  get size(): number {
    return this.slotOf.size;
  }

  private idOf(facet: string, value: string): number {
    const key = valueKey(facet, value);
    let id = this.valueIds.get(key);
    if (id === undefined) {
      id = this.facetOf.length;
      this.valueIds.set(key, id);
      this.facetOf.push(facet);
      this.valueOf.push(value);
    }
    return id;
  }

  private priceColumn(currency: string): Float64Array {
    let column = this.prices.get(currency);
    if (!column || column.length < this.docId.length) {
      const next = new Float64Array(this.docId.length).fill(Number.NaN);
      if (column) next.set(column);
      column = next;
      this.prices.set(currency, column);
    }
    return column;
  }

  upsert(doc: ReplicaDocFields): void {
    let slot = this.slotOf.get(doc.doc_id);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.slots++;
      this.slotOf.set(doc.doc_id, slot);
      const size = slot + 1;
      this.docId = grow(this.docId, size);
      this.alive = grow(this.alive, size);
      this.inStock = grow(this.inStock, size);
      this.popularity = grow(this.popularity, size);
      this.boost = grow(this.boost, size);
      this.created = grow(this.created, size);
      this.facetStart = grow(this.facetStart, size);
      this.facetCount = grow(this.facetCount, size);
    }
    this.docId[slot] = doc.doc_id;
    this.alive[slot] = 1;
    this.inStock[slot] = doc.in_stock ? 1 : 0;
    this.popularity[slot] = doc.popularity;
    this.boost[slot] = doc.boost;
    this.created[slot] = doc.created_at;
    for (const column of this.prices.values()) if (column.length > slot) column[slot] = Number.NaN;
    for (const [currency, amount] of Object.entries(doc.prices)) this.priceColumn(currency)[slot] = amount;
    const count = doc.facets.length + 1;
    if (this.poolUsed + count > this.pool.length) this.compact(count);
    const start = this.poolUsed;
    doc.facets.forEach(([facet, value], i) => {
      this.pool[start + i] = this.idOf(facet, value);
    });
    this.pool[start + count - 1] = this.idOf("availability", doc.in_stock ? "in_stock" : "sold_out");
    this.facetStart[slot] = start;
    this.facetCount[slot] = count;
    this.poolUsed += count;
  }

  remove(docId: number): void {
    const slot = this.slotOf.get(docId);
    if (slot === undefined) return;
    this.slotOf.delete(docId);
    this.alive[slot] = 0;
    this.facetCount[slot] = 0;
    this.free.push(slot);
  }

  /** Rewrites the facet pool with live entries only, with room for `extra` more. */
  private compact(extra: number): void {
    let live = 0;
    for (let slot = 0; slot < this.slots; slot++)
      live += this.alive[slot] ? (this.facetCount[slot] as number) : 0;
    const next = new Uint32Array(Math.max(16384, (live + extra) * 2));
    let at = 0;
    for (let slot = 0; slot < this.slots; slot++) {
      if (!this.alive[slot]) continue;
      const start = this.facetStart[slot] as number;
      const count = this.facetCount[slot] as number;
      next.set(this.pool.subarray(start, start + count), at);
      this.facetStart[slot] = at;
      at += count;
    }
    this.pool = next;
    this.poolUsed = at;
  }

  /**
   * Filters, sorts and counts. A doc counts towards the total and every facet when it passes
   * the text, the price range and every selection; when it misses exactly one selection it
   * still counts towards that selection's own facet (OR within a facet, AND across facets).
   */
  evaluate(query: EngineQuery, matches: TextMatches | null): EngineResult {
    const groups = query.selections.length;
    const width = this.facetOf.length;
    const groupOf = new Int32Array(width).fill(-1);
    const selected = new Uint8Array(width);
    query.selections.forEach((selection, group) => {
      for (let id = 1; id < width; id++) if (this.facetOf[id] === selection.facet) groupOf[id] = group;
      for (const value of selection.values) {
        const id = this.valueIds.get(valueKey(selection.facet, value));
        if (id !== undefined) selected[id] = 1;
      }
    });
    const hitAt = new Int32Array(groups).fill(-1);
    const perId = new Uint32Array(width);
    const price = this.prices.get(query.currency) ?? null;
    const [min, max] = query.range ?? [0, 0];
    const ranged = query.range !== null;
    const mode =
      query.sort === "price_asc"
        ? Mode.PriceAsc
        : query.sort === "price_desc"
          ? Mode.PriceDesc
          : query.sort === "newest"
            ? Mode.Newest
            : matches
              ? Mode.Relevance
              : Mode.Popularity;
    const page = new TopRows(
      query.take,
      mode === Mode.Newest || mode === Mode.Popularity,
      query.after,
      this.docId,
    );
    const { pool, facetStart, facetCount, inStock } = this;
    let total = 0;
    let n = 0;

    const visit = (slot: number, score: number) => {
      n++;
      const amount = price !== null && slot < price.length ? (price[slot] as number) : Number.NaN;
      if (ranged && !(amount >= min && amount <= max)) return;
      const start = facetStart[slot] as number;
      const end = start + (facetCount[slot] as number);
      for (let i = start; i < end; i++) {
        const id = pool[i] as number;
        if (selected[id] === 1) hitAt[groupOf[id] as number] = n;
      }
      let missing = 0;
      let missed = -1;
      for (let g = 0; g < groups; g++) {
        if (hitAt[g] !== n) {
          missing++;
          missed = g;
        }
      }
      if (missing > 1) return;
      for (let i = start; i < end; i++) {
        const id = pool[i] as number;
        if (missing === 0 || groupOf[id] === missed) perId[id] = (perId[id] as number) + 1;
      }
      if (missing !== 0) return;
      total++;
      const priced = !Number.isNaN(amount);
      switch (mode) {
        case Mode.PriceAsc:
          page.offer(slot, priced ? 0 : 1, priced ? amount : 0);
          break;
        case Mode.PriceDesc:
          page.offer(slot, priced ? 0 : 1, priced ? -amount : 0);
          break;
        case Mode.Newest:
          page.offer(slot, this.created[slot] as number, this.docId[slot] as number);
          break;
        case Mode.Popularity:
          page.offer(slot, inStock[slot] as number, this.popularity[slot] as number);
          break;
        default:
          // In stock first, then bm25 (negative: lower is better) scaled by popularity.
          page.offer(slot, 1 - (inStock[slot] as number), score * (this.boost[slot] as number));
      }
    };

    if (matches) {
      const { ids, scores } = matches;
      for (let i = 0; i < ids.length; i++) {
        const slot = this.slotOf.get(ids[i] as number);
        if (slot !== undefined) visit(slot, scores ? (scores[i] as number) : 0);
      }
    } else {
      for (let slot = 0; slot < this.slots; slot++) if (this.alive[slot]) visit(slot, 0);
    }

    const counts: [string, string, number][] = [];
    for (let id = 1; id < width; id++) {
      const count = perId[id] as number;
      if (count > 0) counts.push([this.facetOf[id] as string, this.valueOf[id] as string, count]);
    }
    return {
      total,
      counts,
      rows: page.rows().map((row) => {
        const amount = price !== null && row.slot < price.length ? (price[row.slot] as number) : Number.NaN;
        return {
          doc_id: row.id,
          in_stock: this.inStock[row.slot] as number,
          amount: Number.isNaN(amount) ? null : amount,
          k1: row.k1,
          k2: row.k2,
        };
      }),
    };
  }
}

interface Candidate {
  slot: number;
  id: number;
  k1: number;
  k2: number;
}

/**
 * The first `take` rows after the keyset position, in the order of service.ts's `sortKeys`:
 * `k1, k2, doc_id`, all ascending or all descending.
 */
class TopRows {
  private readonly kept: Candidate[] = [];
  private readonly take: number;
  private readonly descending: boolean;
  private readonly after: readonly [number, number, number] | null;
  private readonly docIds: Int32Array;

  constructor(
    take: number,
    descending: boolean,
    after: readonly [number, number, number] | null,
    docIds: Int32Array,
  ) {
    this.take = take;
    this.descending = descending;
    this.after = after;
    this.docIds = docIds;
  }

  /** Negative when (a1, a2, aid) comes first. */
  private order(a1: number, a2: number, aid: number, b: Candidate): number {
    const order = a1 !== b.k1 ? a1 - b.k1 : a2 !== b.k2 ? a2 - b.k2 : aid - b.id;
    return this.descending ? -order : order;
  }

  offer(slot: number, k1: number, k2: number): void {
    // Doc ids are read lazily: most docs are rejected on their keys alone.
    const kept = this.kept;
    const last = kept[kept.length - 1];
    const full = kept.length >= this.take;
    if (full && last) {
      const byKeys = k1 !== last.k1 ? k1 - last.k1 : k2 - last.k2;
      if ((this.descending ? -byKeys : byKeys) > 0) return;
    }
    const id = this.docIds[slot] as number;
    const candidate = { slot, id, k1, k2 };
    const after = this.after;
    if (after && this.order(after[0], after[1], after[2], candidate) >= 0) return;
    if (full && last && this.order(k1, k2, id, last) >= 0) return;
    let at = kept.length;
    while (at > 0 && this.order(k1, k2, id, kept[at - 1] as Candidate) < 0) at--;
    kept.splice(at, 0, candidate);
    if (kept.length > this.take) kept.pop();
  }

  rows(): Candidate[] {
    return this.kept;
  }
}
