/**
 * The arithmetic of moving stock units between a SKU's coordinator and its shards, as pure
 * functions over one object's counters (durable-objects/inventory.ts and its `inventory/` modules
 * own storage, ordering and messaging; the protocol is described there). Every function keeps each object's identity
 * `available + reserved + sold = on_hand`, and applies a cumulative counter only by the part
 * not seen before, so a replayed, reordered or lost message can neither duplicate nor lose a
 * unit. Functions taking a `ShardCounters` change it in place: the object applies them to a
 * draft inside one storage transaction.
 */

/** The counters of one object (coordinator or shard) that unit movements touch. */
export interface ShardCounters {
  /** 0: the coordinator; 1..N: a shard. */
  shard: number;
  on_hand: number;
  reserved: number;
  sold: number;
  /** Shard: the coordinator's cumulative `granted_total` for it, as far as applied. */
  granted_seen: number;
  /** Shard: units ever handed back to the coordinator (cumulative, owned by the shard). */
  returned_total: number;
  /** 0 once the shard is outside the SKU's current shard count (retired). */
  active: number;
  /** 1 while a steal left the shard empty: units it frees go straight back. */
  draining: number;
}

/** Units this object can still grant. */
export const availableOf = (s: Pick<ShardCounters, "on_hand" | "reserved" | "sold">): number =>
  s.on_hand - s.reserved - s.sold;

/** The part of a cumulative counter not applied yet (never negative: a stale message adds nothing). */
export const unseen = (total: number, seen: number): number => Math.max(0, total - seen);

/** Shard: hands `units` back to the coordinator (they leave on the next message). */
export function retireUnits(s: ShardCounters, units: number): void {
  s.on_hand -= units;
  s.returned_total += units;
}

/**
 * Shard: units just freed (release, expiry, shrink, order return). A retired or draining
 * shard hands them straight back, so a shard the coordinator believes empty holds nothing
 * available and steals can skip it.
 */
export function freeUnits(s: ShardCounters, units: number): void {
  if (s.shard > 0 && (s.active === 0 || s.draining === 1)) retireUnits(s, units);
}

/**
 * Shard: applies the coordinator's cumulative `granted_total`; returns how many units arrived.
 * A grant ends draining; a retired shard passes what arrives straight back.
 */
export function applyGrant(s: ShardCounters, grantedTotal: number): number {
  const delta = unseen(grantedTotal, s.granted_seen);
  if (delta === 0) return 0;
  s.granted_seen = grantedTotal;
  s.on_hand += delta;
  s.draining = 0;
  if (s.shard > 0 && s.active === 0) retireUnits(s, delta);
  return delta;
}

/** Shard: a new configuration; leaving the active set retires every available unit. */
export function applyActivity(s: ShardCounters, active: boolean): void {
  s.active = active ? 1 : 0;
  if (!active) retireUnits(s, availableOf(s));
}

/**
 * Shard side of a steal: hands back up to `want` available units. A shard left with none
 * is draining until it is granted units again.
 */
export function giveBack(s: ShardCounters, want: number): { returned: number; remaining: number } {
  const returned = Math.min(availableOf(s), want);
  retireUnits(s, returned);
  const remaining = availableOf(s);
  if (remaining === 0) s.draining = 1;
  return { returned, remaining };
}

/**
 * Coordinator: how many units to grant a shard that asks for `want` (at least what it needs,
 * or a fair share of what is left, whichever is more; nothing to a retired shard).
 */
export function grantSize(available: number, want: number, shardCount: number, active: boolean): number {
  if (!active || want <= 0) return 0;
  return Math.min(available, Math.max(want, Math.ceil(available / shardCount)));
}

/** Holds `units` more (a grant or a grown reservation); a negative count shrinks a hold, freeing units. */
export function hold(s: ShardCounters, units: number): void {
  s.reserved += units;
  if (units < 0) freeUnits(s, -units);
}

/** A hold ends without a sale (release, expiry): its units are free again. */
export function unhold(s: ShardCounters, units: number): void {
  s.reserved -= units;
  freeUnits(s, units);
}

/** A hold becomes a sale. */
export function sell(s: ShardCounters, units: number): void {
  s.reserved -= units;
  s.sold += units;
}

/** A sale is undone (a cancelled order's units come back): they are free again. */
export function unsell(s: ShardCounters, units: number): void {
  s.sold -= units;
  freeUnits(s, units);
}

/**
 * Coordinator: units between it and its shards — granted but not yet applied by the shard, or
 * handed back but not yet seen by the coordinator. With them, a SKU's counters add up:
 * `sku_on_hand = Σ on_hand + in transit`.
 */
export function unitsInTransit(
  links: ReadonlyMap<number, { granted_total: number; returned_seen: number }>,
  shards: readonly { shard: number; granted_seen: number; returned_total: number }[],
): number {
  let total = 0;
  for (const s of shards) {
    const link = links.get(s.shard);
    total += (link?.granted_total ?? 0) - s.granted_seen + (s.returned_total - (link?.returned_seen ?? 0));
  }
  return total;
}
