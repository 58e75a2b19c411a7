import { availableOf, unhold } from "../../workers/inventory/counters";
import {
  availabilityKey,
  type InventoryLevelEvent,
  type PublishedAvailability,
} from "../../workers/inventory/events";
import type { AdjustmentView, LedgerEntry, ObjectSnapshot } from "../../workers/inventory/rpc";
import {
  DEFAULT_POLICY,
  objectName,
  type ReservationView,
  type ReserveRefusal,
  type ShardAddress,
  type SkuPolicy,
  type StockCounters,
} from "../../workers/inventory/types";
import { newId } from "../../workers/lib/ids";
import { log } from "../../workers/lib/logging";
import {
  adjustmentView,
  INVENTORY_STORAGE_MIGRATIONS,
  type LinkRow,
  type ReservationRow,
  type StateRow,
} from "../inventory-storage";
import { applyStorageMigrations } from "../storage-migrations";

/** KV allows about one write per second per key; the snapshot (and D1 event) honour it. */
const PUBLISH_INTERVAL_MS = 1000;
const RETURN_RETRY_MS = 1000;
const IDEMPOTENCY_RETENTION_MS = 24 * 3600 * 1000;

export const iso = (ms: number) => new Date(ms).toISOString();

export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/**
 * One inventory object's storage, whatever its role: the state row (counters, transfer
 * counters, configuration), the reservation ledger, the idempotency memo, the audit trail and
 * the shard links, plus what follows every change (next expiry, the one alarm, the throttled
 * publication of availability). Coordinator-only and shard-only behaviour live in
 * `coordinator.ts` and `shard.ts`; the buyer operations both roles serve in `reservations.ts`.
 */
export class InventoryStore {
  readonly sql: SqlStorage;
  st!: StateRow;
  nextExpiry: number | null = null;
  private alarmAt: number | null = null;

  /**
   * `pushReturns` sends units a shard handed back to the coordinator; called (not awaited)
   * after any change that leaves returns in transit.
   */
  constructor(
    readonly ctx: DurableObjectState,
    readonly env: Env,
    private readonly pushReturns: () => Promise<void>,
  ) {
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      applyStorageMigrations(ctx.storage, INVENTORY_STORAGE_MIGRATIONS);
      this.st = this.sql.exec<StateRow>("SELECT * FROM state WHERE id = 1").one();
      this.nextExpiry = this.queryNextExpiry();
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---------------------------------------------------------------- identity and state

  /** Records which object this is on its first call; a call addressed to another object is a bug. */
  bind(addr: ShardAddress): void {
    if (this.st.shard === addr.shard && this.st.sku === addr.sku) return;
    if (this.st.shard !== -1)
      throw new Error(`object ${objectName(this.st)} addressed as ${objectName(addr)}`);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE state SET sku = ?, shard = ? WHERE id = 1", addr.sku, addr.shard);
    });
    this.st = { ...this.st, sku: addr.sku, shard: addr.shard };
  }

  isCoordinator(): boolean {
    return this.st.shard === 0;
  }

  /** Another object of this SKU (0: the coordinator). */
  stub(shard: number) {
    return this.env.INVENTORY.getByName(objectName({ sku: this.st.sku, shard }));
  }

  /** A shard outside the SKU's current shard count: it serves its existing reservations only. */
  retired(): boolean {
    return this.st.shard > 0 && this.st.active === 0;
  }

  policy(): SkuPolicy {
    return { ...DEFAULT_POLICY, ...(JSON.parse(this.st.policy) as Partial<SkuPolicy>) };
  }

  counters(): StockCounters {
    const { on_hand, reserved, sold } = this.st;
    return { on_hand, available: availableOf(this.st), reserved, sold };
  }

  available(): number {
    return availableOf(this.st);
  }

  refuse(reason: ReserveRefusal) {
    return { ok: false as const, reason, available: Math.max(0, this.available()) };
  }

  /** Shard: units handed back that the coordinator has not acknowledged yet. */
  returnsPending(): boolean {
    return this.st.shard > 0 && this.st.returned_total > this.st.returned_acked;
  }

  // ---------------------------------------------------------------- changes

  /**
   * Applies `change` to a copy of the state inside one storage transaction, then follows up:
   * next expiry, alarm, snapshot publication, returns in transit.
   */
  mutate<T>(change: (s: StateRow) => T): T {
    const result = this.ctx.storage.transactionSync(() => {
      const s = { ...this.st };
      const out = change(s);
      s.version += 1;
      this.sql.exec(
        `UPDATE state SET on_hand = ?, reserved = ?, sold = ?, sku_on_hand = ?, granted_seen = ?,
           returned_total = ?, returned_acked = ?, config_version = ?, active = ?, shard_count = ?,
           shards_used = ?, policy = ?, draining = ?, version = ? WHERE id = 1`,
        s.on_hand,
        s.reserved,
        s.sold,
        s.sku_on_hand,
        s.granted_seen,
        s.returned_total,
        s.returned_acked,
        s.config_version,
        s.active,
        s.shard_count,
        s.shards_used,
        s.policy,
        s.draining,
        s.version,
      );
      this.st = s;
      return out;
    });
    this.nextExpiry = this.queryNextExpiry();
    if (this.returnsPending()) void this.pushReturns();
    this.maybePublish();
    this.rearm();
    return result;
  }

  /** Expires held reservations whose deadline passed; cheap unless one is actually due. */
  sweep(now: number, force = false): void {
    if (!force && (this.nextExpiry === null || this.nextExpiry > now)) return;
    const due = this.sql
      .exec<{ id: string; quantity: number }>(
        "SELECT id, quantity FROM reservations WHERE status = 'held' AND expires_at <= ?",
        now,
      )
      .toArray();
    if (due.length === 0) {
      this.nextExpiry = this.queryNextExpiry();
      return;
    }
    this.mutate((s) => {
      let freed = 0;
      for (const r of due) {
        this.sql.exec("UPDATE reservations SET status = 'expired', updated_at = ? WHERE id = ?", now, r.id);
        freed += r.quantity;
      }
      unhold(s, freed);
    });
  }

  private queryNextExpiry(): number | null {
    return this.sql
      .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM reservations WHERE status = 'held'")
      .one().next;
  }

  // ---------------------------------------------------------------- alarm and publication

  /**
   * The alarm's work: expiries (forced), the memo's retention, and a publication that is due.
   * The caller pushes pending returns and re-arms after.
   */
  async housekeep(now: number): Promise<void> {
    this.sweep(now, true);
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_RETENTION_MS);
    if (this.st.version > this.st.published_version && now - this.st.published_at >= PUBLISH_INTERVAL_MS) {
      await this.publish();
    }
  }

  /** Arms the one alarm for the earliest of: next expiry, a throttled publication, a returns retry. */
  rearm(): void {
    const candidates: number[] = [];
    if (this.nextExpiry !== null) candidates.push(this.nextExpiry);
    if (this.st.version > this.st.published_version)
      candidates.push(this.st.published_at + PUBLISH_INTERVAL_MS);
    if (this.returnsPending()) candidates.push(Date.now() + RETURN_RETRY_MS);
    const target = candidates.length === 0 ? null : Math.min(...candidates);
    if (target === this.alarmAt) return;
    this.alarmAt = target;
    if (target === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(target);
  }

  /** The alarm fired: nothing is armed until `rearm` arms it again. */
  alarmFired(): void {
    this.alarmAt = null;
  }

  private maybePublish(): void {
    if (this.st.version <= this.st.published_version) return;
    if (Date.now() - this.st.published_at < PUBLISH_INTERVAL_MS) return;
    void this.publish();
  }

  /**
   * Writes this object's availability to KV (at most once a second: KV's per-key write limit)
   * and emits the level event that keeps D1's reporting copy in sync. Never awaited by buyers.
   */
  private async publish(): Promise<void> {
    const now = Date.now();
    const version = this.st.version;
    const counters = this.counters();
    this.st = { ...this.st, published_at: now };
    this.sql.exec("UPDATE state SET published_at = ? WHERE id = 1", now);
    const snapshot: PublishedAvailability = {
      sku: this.st.sku,
      shard: this.st.shard,
      shard_count: this.st.shard_count,
      available: counters.available,
      version,
      published_at: iso(now),
    };
    const event: InventoryLevelEvent = {
      type: "inventory.level",
      version: 1,
      sku: this.st.sku,
      shard: this.st.shard,
      level_version: version,
      on_hand: counters.on_hand,
      available: counters.available,
      reserved: counters.reserved,
      sold: counters.sold,
      sku_on_hand: this.st.shard === 0 ? this.st.sku_on_hand : null,
      occurred_at: iso(now),
    };
    try {
      await Promise.all([
        this.env.CATALOG_KV.put(availabilityKey(this.st.sku, this.st.shard), JSON.stringify(snapshot)),
        this.env.INVENTORY_EVENTS.send(event),
      ]);
      if (version > this.st.published_version) {
        this.st = { ...this.st, published_version: version };
        this.sql.exec("UPDATE state SET published_version = ? WHERE id = 1", version);
      }
    } catch (error) {
      log("warn", "inventory_publish_failed", { object: objectName(this.st), error: String(error) });
    }
    this.rearm();
  }

  // ---------------------------------------------------------------- the reservation ledger

  row(id: string): ReservationRow | null {
    return this.sql.exec<ReservationRow>("SELECT * FROM reservations WHERE id = ?", id).toArray()[0] ?? null;
  }

  /** The reservation `id` if it is still held (expiries applied first), else why not. */
  heldRow(id: string, now: number): ReservationRow | { ok: false; reason: "not_found" | "not_held" } {
    this.sweep(now);
    const row = this.row(id);
    if (!row) return { ok: false, reason: "not_found" };
    if (row.status !== "held") return { ok: false, reason: "not_held" };
    return row;
  }

  view(row: ReservationRow): ReservationView {
    return {
      id: row.id,
      sku: this.st.sku,
      holder: row.holder,
      quantity: row.quantity,
      status: row.status,
      expires_at: iso(row.expires_at),
      created_at: iso(row.created_at),
    };
  }

  heldReservations(limit: number): ReservationView[] {
    return this.sql
      .exec<ReservationRow>(
        "SELECT * FROM reservations WHERE status = 'held' ORDER BY expires_at LIMIT ?",
        limit,
      )
      .toArray()
      .map((row) => this.view(row));
  }

  /** Every held reservation, and every committed one changed since `since` (epoch ms). */
  ledgerEntries(since: number): LedgerEntry[] {
    return this.sql
      .exec<ReservationRow & { updated_at: number }>(
        `SELECT * FROM reservations WHERE status = 'held' OR (status = 'committed' AND updated_at >= ?)`,
        since,
      )
      .toArray()
      .map((row) => ({
        id: row.id,
        shard: this.st.shard,
        holder: row.holder,
        status: row.status as LedgerEntry["status"],
        quantity: row.quantity,
        order_id: row.order_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
      }));
  }

  /** This object's own counters, ledger and protocol state. */
  snapshot(): ObjectSnapshot {
    return {
      sku: this.st.sku,
      shard: this.st.shard,
      active: !this.retired(),
      ...this.counters(),
      granted_seen: this.st.granted_seen,
      returned_total: this.st.returned_total,
      config_version: this.st.config_version,
      shard_count: this.st.shard_count,
      policy: this.policy(),
      next_expiry: this.nextExpiry === null ? null : iso(this.nextExpiry),
      reservations: this.heldReservations(200),
    };
  }

  /** Counter violations the ledger shows: negative availability, holds and sales that do not add up. */
  ledgerViolations(): string[] {
    const violations: string[] = [];
    const sums = this.sql
      .exec<{ held: number; committed: number }>(
        `SELECT COALESCE(SUM(CASE WHEN status = 'held' THEN quantity END), 0) AS held,
                COALESCE(SUM(CASE WHEN status = 'committed' THEN quantity END), 0) AS committed FROM reservations`,
      )
      .one();
    const c = this.counters();
    if (c.available < 0) violations.push(`available ${c.available} < 0`);
    if (c.reserved !== sums.held) violations.push(`reserved ${c.reserved} != ledger held ${sums.held}`);
    if (c.sold !== sums.committed) violations.push(`sold ${c.sold} != ledger committed ${sums.committed}`);
    return violations;
  }

  // ---------------------------------------------------------------- shard links and audit

  link(shard: number): LinkRow {
    return (
      this.sql.exec<LinkRow>("SELECT * FROM shard_links WHERE shard = ?", shard).toArray()[0] ?? {
        shard,
        granted_total: 0,
        returned_seen: 0,
      }
    );
  }

  links(): LinkRow[] {
    return this.sql.exec<LinkRow>("SELECT * FROM shard_links").toArray();
  }

  audit(kind: AdjustmentView["kind"], delta: number, reason: string, onHandAfter: number, now: number) {
    const id = newId("adj");
    this.sql.exec(
      "INSERT INTO adjustments (id, kind, delta, reason, on_hand_after, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      kind,
      delta,
      reason,
      onHandAfter,
      now,
    );
    return adjustmentView({ id, kind, delta, reason, on_hand_after: onHandAfter, created_at: now });
  }

  // ---------------------------------------------------------------- idempotency memo

  recall<T>(key: string): T | null {
    const row = this.sql
      .exec<{ result: string }>("SELECT result FROM idempotency WHERE key = ?", key)
      .toArray()[0];
    return row ? (JSON.parse(row.result) as T) : null;
  }

  /**
   * True when `key` was first used for a request with another `fingerprint` (its inputs): a
   * reused key must not answer with the first request's result. Rows from before fingerprints
   * were stored match anything.
   */
  keyReused(key: string, fingerprint: string): boolean {
    const row = this.sql
      .exec<{ fingerprint: string | null }>("SELECT fingerprint FROM idempotency WHERE key = ?", key)
      .toArray()[0];
    return row !== undefined && row.fingerprint !== null && row.fingerprint !== fingerprint;
  }

  /** Stores `result` under `key` (inside the caller's transaction). */
  memoize(key: string, result: unknown, now: number, fingerprint: string | null = null): void {
    this.sql.exec(
      "INSERT INTO idempotency (key, result, created_at, fingerprint) VALUES (?, ?, ?, ?)",
      key,
      JSON.stringify(result),
      now,
      fingerprint,
    );
  }

  /** Stores a refusal under the key (so a retry repeats it) and returns it. */
  remember<T>(key: string, result: T, fingerprint: string | null = null): T {
    this.ctx.storage.transactionSync(() => this.memoize(key, result, Date.now(), fingerprint));
    return result;
  }
}
