import { BoundedMap } from "../lib/bounded-map";

/**
 * Coalesces live reads: however many console viewers watch a SKU in this isolate, its state is
 * loaded at most once per `freshMs`, and everyone is served that copy. A viewer that finds the
 * copy stale loads it itself, in its own request context (an I/O result cannot be awaited
 * across requests in Workers), while concurrent viewers keep the previous copy for one tick
 * instead of piling onto the object.
 */
export class LiveHub {
  /** Bounded, so a console browsing every SKU does not keep a copy of each for the isolate's life. */
  private readonly entries: BoundedMap<
    string,
    { json: string | null; at: number; loadingSince: number | null }
  >;
  /** Loads performed, for tests and the console's own diagnostics. */
  loads = 0;

  constructor(
    private readonly freshMs = 1000,
    /** A load older than this is presumed lost (its request went away) and is retried. */
    private readonly abandonMs = 5000,
    private readonly now: () => number = Date.now,
    capacity = 512,
  ) {
    this.entries = new BoundedMap(capacity);
  }

  /** The current copy for `key`, loading it with `load` when stale and nobody else is. */
  async read(key: string, load: () => Promise<string | null>): Promise<string | null> {
    const entry = this.entries.get(key) ?? { json: null, at: 0, loadingSince: null };
    this.entries.set(key, entry);
    const now = this.now();
    if (entry.json !== null && now - entry.at < this.freshMs) return entry.json;
    if (entry.loadingSince !== null && now - entry.loadingSince < this.abandonMs) return entry.json;
    entry.loadingSince = now;
    this.loads++;
    try {
      entry.json = await load();
      entry.at = this.now();
    } finally {
      entry.loadingSince = null;
    }
    return entry.json;
  }

  /** Forgets `key`'s copy so the next read loads (after a write made through the console). */
  invalidate(key: string): void {
    this.entries.delete(key);
  }
}

/** The one hub per isolate shared by every live console view. */
export const inventoryHub = new LiveHub();
