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

interface MemoryDoc {
  id: number;
  inStock: number;
  popularity: number;
  boost: number;
  created: number;
  facets: Uint32Array;
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

interface Candidate {
  doc: MemoryDoc;
  k1: number;
  k2: number;
  amount: number | null;
}

export class MemoryIndex {
  private readonly docs = new Map<number, MemoryDoc>();
  private readonly valueIds = new Map<string, number>();
  /** Facet and value of each id; id 0 is unused. */
  private readonly facetOf: string[] = [""];
  private readonly valueOf: string[] = [""];

  get size(): number {
    return this.docs.size;
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

  upsert(doc: ReplicaDocFields): void {
    const ids = doc.facets.map(([facet, value]) => this.idOf(facet, value));
    ids.push(this.idOf("availability", doc.in_stock ? "in_stock" : "sold_out"));
    this.docs.set(doc.doc_id, {
      id: doc.doc_id,
      inStock: doc.in_stock ? 1 : 0,
      popularity: doc.popularity,
      boost: doc.boost,
      created: doc.created_at,
      facets: Uint32Array.from(ids),
      prices: doc.prices,
    });
  }

  remove(docId: number): void {
    this.docs.delete(docId);
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
    const page = new TopRows(query, matches !== null);
    let total = 0;
    let n = 0;

    const visit = (doc: MemoryDoc, score: number) => {
      n++;
      const amount = doc.prices[query.currency];
      if (query.range && (amount === undefined || amount < query.range[0] || amount > query.range[1])) return;
      const facets = doc.facets;
      for (let i = 0; i < facets.length; i++) {
        const id = facets[i] as number;
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
      for (let i = 0; i < facets.length; i++) {
        const id = facets[i] as number;
        if (missing === 0 || groupOf[id] === missed) perId[id] = (perId[id] as number) + 1;
      }
      if (missing === 0) {
        total++;
        page.offer(doc, score, amount ?? null);
      }
    };

    if (matches) {
      for (let i = 0; i < matches.ids.length; i++) {
        const doc = this.docs.get(matches.ids[i] as number);
        if (doc) visit(doc, matches.scores ? (matches.scores[i] as number) : 0);
      }
    } else {
      for (const doc of this.docs.values()) visit(doc, 0);
    }

    const counts: [string, string, number][] = [];
    for (let id = 1; id < width; id++) {
      const count = perId[id] as number;
      if (count > 0) counts.push([this.facetOf[id] as string, this.valueOf[id] as string, count]);
    }
    return {
      total,
      counts,
      rows: page.rows().map((c) => ({
        doc_id: c.doc.id,
        in_stock: c.doc.inStock,
        amount: c.amount,
        k1: c.k1,
        k2: c.k2,
      })),
    };
  }
}

/**
 * The first `take` rows after the keyset position, in the order of service.ts's `sortKeys`:
 * `k1, k2, doc_id`, all ascending or all descending.
 */
class TopRows {
  private readonly kept: Candidate[] = [];
  private readonly descending: boolean;
  private readonly keys: (doc: MemoryDoc, score: number, amount: number | null) => [number, number];

  constructor(
    private readonly query: EngineQuery,
    hasText: boolean,
  ) {
    switch (query.sort) {
      case "price_asc":
        this.descending = false;
        this.keys = (_doc, _score, amount) => [amount === null ? 1 : 0, amount ?? 0];
        break;
      case "price_desc":
        this.descending = false;
        this.keys = (_doc, _score, amount) => [amount === null ? 1 : 0, amount === null ? 0 : -amount];
        break;
      case "newest":
        this.descending = true;
        this.keys = (doc) => [doc.created, doc.id];
        break;
      default:
        // In stock first, then bm25 scaled by popularity; browsing: in stock, then popularity.
        this.descending = !hasText;
        this.keys = hasText
          ? (doc, score) => [1 - doc.inStock, score * doc.boost]
          : (doc) => [doc.inStock, doc.popularity];
    }
  }

  /** Negative when `a` comes first. */
  private compare(a: Candidate | [number, number, number], b: Candidate): number {
    const [a1, a2, aid] = Array.isArray(a) ? a : [a.k1, a.k2, a.doc.id];
    const order = a1 !== b.k1 ? a1 - b.k1 : a2 !== b.k2 ? a2 - b.k2 : aid - b.doc.id;
    return this.descending ? -order : order;
  }

  offer(doc: MemoryDoc, score: number, amount: number | null): void {
    const [k1, k2] = this.keys(doc, score, amount);
    const candidate = { doc, k1, k2, amount };
    const after = this.query.after;
    if (after && this.compare(after, candidate) >= 0) return;
    const kept = this.kept;
    const last = kept[kept.length - 1];
    if (kept.length >= this.query.take && last && this.compare(candidate, last) >= 0) return;
    let at = kept.length;
    while (at > 0 && this.compare(candidate, kept[at - 1] as Candidate) < 0) at--;
    kept.splice(at, 0, candidate);
    if (kept.length > this.query.take) kept.pop();
  }

  rows(): Candidate[] {
    return this.kept;
  }
}
