import { DurableObject } from "cloudflare:workers";
import {
  applyActivity,
  applyGrant,
  availableOf,
  giveBack,
  grantSize,
  hold,
  sell,
  unhold,
  unitsInTransit,
  unseen,
  unsell,
} from "../workers/inventory/counters";
import {
  availabilityKey,
  type InventoryLevelEvent,
  type PublishedAvailability,
} from "../workers/inventory/events";
import type {
  AdjustmentView,
  CommitResult,
  CurtailResult,
  ExtendResult,
  InvariantReport,
  LedgerEntry,
  ObjectSnapshot,
  ReassignResult,
  ReleaseResult,
  ReserveInput,
  ReserveOnAddResult,
  ReserveResult,
  ResizeResult,
  ReturnResult,
  ShardConfig,
  SkuLedger,
  SkuView,
  StockChangeResult,
  SyncReply,
} from "../workers/inventory/rpc";
import {
  DEFAULT_POLICY,
  objectName,
  type ReservationView,
  type ReserveRefusal,
  type ShardAddress,
  type SkuPolicy,
  type StockCounters,
} from "../workers/inventory/types";
import { newId } from "../workers/lib/ids";
import { log } from "../workers/lib/logging";
import { type Admission, admissionRefusal } from "../workers/waiting-room/admission";
import {
  type AdjustmentRow,
  adjustmentView,
  INVENTORY_STORAGE_MIGRATIONS,
  type LinkRow,
  type ReservationRow,
  type StateRow,
} from "./inventory-storage";
import { applyStorageMigrations } from "./storage-migrations";

/*
 * Sharding protocol (also in README "Flash sales").
 *
 * A SKU's stock lives in `sku:<SKU>` (the coordinator, "shard 0") and, when the SKU is
 * sharded (N > 1), in `sku:<SKU>#1` … `sku:<SKU>#N`. With N = 1 buyers talk to the
 * coordinator alone (no extra hop); with N > 1 they talk only to shards 1..N and the
 * coordinator just holds the unallocated pool. Each object keeps its own counters with
 * `available + reserved + sold = on_hand` and a ledger of the reservations it granted.
 * Only the coordinator changes the SKU's total (`sku_on_hand`, audited adjustments).
 *
 * Units move between the coordinator and shard n through two monotone counters, one owned by
 * each side: `granted_total[n]` (coordinator → shard, owned by the coordinator) and
 * `returned_total` (shard → coordinator, owned by the shard). Every message carries the
 * sender's counter and the receiver applies only `counter - last_seen`, in the same storage
 * transaction that records the new `last_seen`. Replayed, reordered or lost messages
 * therefore can neither duplicate nor lose a unit: a unit whose message was lost stays
 * "in transit" (counted in the SKU's on-hand, visible in the admin view) and arrives with the
 * next message in either direction. Per SKU:
 *   sku_on_hand = Σ on_hand(object) + Σ (granted_total[n] - granted_seen[n]) + Σ (returned_total[n] - returned_seen[n])
 *
 * Buyers are routed to shard 1 + hash(customer ?? holder) mod N, so a holder's (and a customer's)
 * reservations share one ledger and purchase limits are checked exactly. A shard short of
 * units pulls from the coordinator (a fair share, at least what it needs); a coordinator short
 * of units takes them back from the other shards ("steal"). A refusal for insufficient stock
 * is only final after the coordinator reported that even after stealing it had nothing left,
 * so when demand ≥ stock every unit is eventually granted: none oversold, none stranded.
 * A shard a steal left empty is "draining": until it is granted units again it sends every unit
 * it frees (release, expiry, shrink, order return) straight back, so the coordinator can skip
 * it in later steals and a sold-out SKU answers in two hops instead of one per shard.
 *
 * Re-sharding bumps `config_version` and pushes the new shard count to every shard ever used.
 * Shards outside 1..N (all of them when N = 1) retire: they hand all available units back at once, keep serving
 * their existing reservations (extend/commit/release), and return every unit those free.
 * Growing N just adds empty shards that pull on demand. No unit changes hands outside the
 * counter protocol, so re-sharding a live SKU neither loses nor duplicates a unit.
 */

/** KV allows about one write per second per key; the snapshot (and D1 event) honour it. */
const PUBLISH_INTERVAL_MS = 1000;
const RETURN_RETRY_MS = 1000;
const IDEMPOTENCY_RETENTION_MS = 24 * 3600 * 1000;
const MAX_ACQUIRE_ROUNDS = 6;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One object per SKU shard: the only place a unit of stock is granted, so oversell is
 * impossible by construction (every grant is a synchronous check-and-write on this object's
 * SQLite). Every RPC takes the caller's `ShardAddress` so the object knows its own name.
 */
export class InventoryObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private st!: StateRow;
  private nextExpiry: number | null = null;
  private alarmAt: number | null = null;
  private pulling: Promise<SyncReply> | null = null;
  private pushing: Promise<void> | null = null;
  private readonly stealing = new Map<number, Promise<void>>();
  /** Coordinator: shards that may hold available units (null after a restart: all of them). */
  private mayHave: Set<number> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      applyStorageMigrations(ctx.storage, INVENTORY_STORAGE_MIGRATIONS);
      this.st = this.sql.exec<StateRow>("SELECT * FROM state WHERE id = 1").one();
      this.nextExpiry = this.queryNextExpiry();
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---------------------------------------------------------------- buyer operations

  /** Grants `quantity` units to `holder` or refuses with a reason; idempotent by `key`. */
  async reserve(addr: ShardAddress, input: ReserveInput): Promise<ReserveResult> {
    this.bind(addr);
    const memoKey = `reserve:${input.key}`;
    const fingerprint = JSON.stringify([
      input.holder,
      input.customer ?? null,
      input.quantity,
      input.ttlSeconds ?? null,
    ]);
    if (this.keyReused(memoKey, fingerprint))
      return { ok: false, reason: "idempotency_key_reused", available: 0 };
    return this.withStock<ReserveResult>((final) => {
      const prior = this.recall<ReserveResult>(memoKey);
      if (prior) return { done: prior };
      const now = Date.now();
      this.sweep(now);
      if (this.retired()) return { done: { ok: false, reason: "shard_retired", available: 0 } };
      const policy = this.policy();
      // Not remembered under the key: a retry that brings a fresh admission must be able to pass.
      const unadmitted = this.admissionGate(policy, input.admission, now);
      if (unadmitted) return { done: unadmitted };
      const refusal =
        this.windowRefusal(policy, now) ??
        this.quantityRefusal(policy, input.quantity) ??
        this.limitRefusal(policy, input.holder, input.customer ?? null, input.quantity, null);
      if (refusal) return { done: this.remember(memoKey, this.refuse(refusal), fingerprint) };
      const available = this.available();
      if (available < input.quantity) {
        if (final) return { done: this.remember(memoKey, this.refuse("insufficient_stock"), fingerprint) };
        return { need: input.quantity - available };
      }
      const ttl = input.ttlSeconds ?? policy.reservation_ttl_seconds;
      const id = `${newId("res")}_${this.st.shard}`;
      const result = this.mutate((s) => {
        this.sql.exec(
          `INSERT INTO reservations (id, holder, customer, quantity, status, expires_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, 'held', ?, ?, ?)`,
          id,
          input.holder,
          input.customer ?? null,
          input.quantity,
          input.carry?.expiresAt ?? now + ttl * 1000,
          input.carry?.createdAt ?? now,
          now,
        );
        hold(s, input.quantity);
        const reservation = this.view(this.row(id) as ReservationRow);
        const out: ReserveResult = { ok: true, reservation };
        this.store(memoKey, out, now, fingerprint);
        return out;
      });
      return { done: result };
    });
  }

  /**
   * Add-to-cart: reserves like `reserve` when the SKU's policy holds stock from add-to-cart,
   * else grants nothing (`reservation: null`); refuses `customer_required` when the sale limits
   * units per customer and none is named. One hop where a cart used to ask for the policy and
   * then reserve.
   */
  async reserveOnAdd(addr: ShardAddress, input: ReserveInput): Promise<ReserveOnAddResult> {
    this.bind(addr);
    if (this.retired()) return this.reserve(addr, input);
    const policy = this.policy();
    if (!policy.reserve_on_add_to_cart) return { ok: true, reservation: null };
    // Holding first and asking who the customer is later would let email-less carts hold the sale.
    if (policy.per_customer_limit !== null && !input.customer) {
      return { ok: false, reason: "customer_required", available: 0 };
    }
    return this.reserve(addr, input);
  }

  /** Changes a held reservation's quantity atomically (growing takes units, shrinking frees them). */
  async resize(
    addr: ShardAddress,
    input: { reservationId: string; quantity: number; key: string; admission?: Admission },
  ) {
    this.bind(addr);
    const memoKey = `resize:${input.key}`;
    const result = await this.withStock<ResizeResult>((final) => {
      const prior = this.recall<ResizeResult>(memoKey);
      if (prior) return { done: prior };
      const now = Date.now();
      this.sweep(now);
      const row = this.row(input.reservationId);
      if (!row) return { done: { ok: false, reason: "not_found", available: this.available() } };
      if (row.status !== "held")
        return { done: { ok: false, reason: "not_held", available: this.available() } };
      const delta = input.quantity - row.quantity;
      const policy = this.policy();
      if (delta > 0) {
        const unadmitted = this.admissionGate(policy, input.admission, now);
        if (unadmitted) return { done: unadmitted };
        const refusal =
          this.windowRefusal(policy, now) ??
          this.quantityRefusal(policy, input.quantity) ??
          this.limitRefusal(policy, row.holder, row.customer, delta, row.id);
        if (refusal) return { done: this.remember(memoKey, this.refuse(refusal)) };
        const available = this.available();
        if (available < delta) {
          if (final || this.retired())
            return { done: this.remember(memoKey, this.refuse("insufficient_stock")) };
          return { need: delta - available };
        }
      }
      const result = this.mutate((s) => {
        this.sql.exec(
          "UPDATE reservations SET quantity = ?, updated_at = ? WHERE id = ?",
          input.quantity,
          now,
          row.id,
        );
        hold(s, delta);
        const out: ResizeResult = { ok: true, reservation: this.view(this.row(row.id) as ReservationRow) };
        this.store(memoKey, out, now);
        return out;
      });
      return { done: result };
    });
    await this.pushReturns();
    return result;
  }

  /**
   * Moves a held reservation's deadline to now + `ttlSeconds` (a checkout's payment window),
   * never past its life cap: the sale's reservation TTL plus that window, counted from the
   * first grant, however often it is extended. Going past the TTL is taking the stock for
   * longer than the sale granted, so behind a waiting room it needs a live admission.
   */
  async extend(
    addr: ShardAddress,
    input: { reservationId: string; ttlSeconds?: number; admission?: Admission },
  ): Promise<ExtendResult> {
    const now = Date.now();
    const row = this.heldRow(addr, input.reservationId, now);
    if (!("id" in row)) return row;
    const policy = this.policy();
    const ttl = input.ttlSeconds ?? policy.reservation_ttl_seconds;
    const granted = row.created_at + policy.reservation_ttl_seconds * 1000;
    const target = Math.max(row.expires_at, Math.min(now + ttl * 1000, granted + ttl * 1000));
    if (target > granted && target > row.expires_at && policy.waiting_room !== null) {
      const reason = admissionRefusal(policy.waiting_room, input.admission, now);
      if (reason) return { ok: false, reason, waiting_room: policy.waiting_room };
    }
    return this.mutate(() => {
      this.sql.exec(
        "UPDATE reservations SET expires_at = ?, updated_at = ? WHERE id = ?",
        target,
        now,
        row.id,
      );
      return { ok: true, reservation: this.view(this.row(row.id) as ReservationRow) };
    });
  }

  /**
   * Takes back what a checkout added to a hold's life: the deadline returns to the sale's TTL
   * from the first grant (a failed payment never renews a hold). Already past it: expired now.
   */
  async curtail(addr: ShardAddress, input: { reservationId: string }): Promise<CurtailResult> {
    const now = Date.now();
    const row = this.heldRow(addr, input.reservationId, now);
    if (!("id" in row)) return row;
    const deadline = Math.min(row.expires_at, row.created_at + this.policy().reservation_ttl_seconds * 1000);
    this.mutate(() => {
      this.sql.exec(
        "UPDATE reservations SET expires_at = ?, updated_at = ? WHERE id = ?",
        deadline,
        now,
        row.id,
      );
    });
    this.sweep(now);
    const after = this.row(row.id) as ReservationRow;
    if (after.status !== "held") {
      await this.pushReturns();
      return { ok: false, reason: "not_held" };
    }
    return { ok: true, reservation: this.view(after) };
  }

  /**
   * Hands a held reservation to `customer` (a cart's email was set or changed), checking the
   * sale's per-customer limit for them as if the units were reserved now.
   */
  async reassign(
    addr: ShardAddress,
    input: { reservationId: string; customer: string },
  ): Promise<ReassignResult> {
    const now = Date.now();
    const row = this.heldRow(addr, input.reservationId, now);
    if (!("id" in row)) return row;
    if (row.customer !== input.customer) {
      const refusal = this.limitRefusal(this.policy(), row.holder, input.customer, row.quantity, row.id);
      if (refusal) return { ok: false, reason: "limit_exceeded" };
      this.mutate(() => {
        this.sql.exec(
          "UPDATE reservations SET customer = ?, updated_at = ? WHERE id = ?",
          input.customer,
          now,
          row.id,
        );
      });
    }
    return { ok: true, reservation: this.view(this.row(row.id) as ReservationRow) };
  }

  /** One reservation as the ledger holds it (a hold about to move between shards). */
  async reservation(
    addr: ShardAddress,
    input: { reservationId: string },
  ): Promise<(ReservationView & { customer: string | null }) | null> {
    this.bind(addr);
    this.sweep(Date.now());
    const row = this.row(input.reservationId);
    return row ? { ...this.view(row), customer: row.customer } : null;
  }

  /** Returns a held reservation's units to available. Releasing twice, or after expiry, is fine. */
  async release(addr: ShardAddress, input: { reservationId: string }): Promise<ReleaseResult> {
    this.bind(addr);
    const now = Date.now();
    this.sweep(now);
    const row = this.row(input.reservationId);
    if (!row) return { ok: false, reason: "not_found" };
    if (row.status === "committed") return { ok: false, reason: "already_committed" };
    if (row.status !== "held") return { ok: true };
    this.mutate((s) => {
      this.sql.exec("UPDATE reservations SET status = 'released', updated_at = ? WHERE id = ?", now, row.id);
      unhold(s, row.quantity);
    });
    // Units freed on a retired or drained shard reach the coordinator before we answer.
    await this.pushReturns();
    return { ok: true };
  }

  /**
   * Turns a held reservation into a sale. An expired or released reservation is refused, never
   * silently re-sold; committing again for the same order is a no-op.
   */
  async commit(
    addr: ShardAddress,
    input: { reservationId: string; orderId: string; customer?: string },
  ): Promise<CommitResult> {
    this.bind(addr);
    const now = Date.now();
    this.sweep(now);
    const row = this.row(input.reservationId);
    if (!row) return { ok: false, reason: "not_found" };
    if (row.status === "committed") {
      return row.order_id === input.orderId
        ? { ok: true }
        : { ok: false, reason: "committed_to_other_order" };
    }
    if (row.status === "expired") return { ok: false, reason: "expired" };
    if (row.status === "released") return { ok: false, reason: "released" };
    // The last gate of a per-customer limit: the buyer who paid is the one the units count for.
    const customer = input.customer ?? row.customer;
    if (
      customer !== null &&
      customer !== row.customer &&
      this.limitRefusal(this.policy(), row.holder, customer, row.quantity, row.id)
    ) {
      return { ok: false, reason: "limit_exceeded" };
    }
    return this.mutate((s) => {
      this.sql.exec(
        "UPDATE reservations SET status = 'committed', order_id = ?, customer = ?, updated_at = ? WHERE id = ?",
        input.orderId,
        customer,
        now,
        row.id,
      );
      sell(s, row.quantity);
      return { ok: true };
    });
  }

  /** An order was cancelled: its sold units become available again, with an audit entry. */
  async returnCommitted(
    addr: ShardAddress,
    input: { reservationId: string; reason: string; key: string },
  ): Promise<ReturnResult> {
    this.bind(addr);
    const memoKey = `return:${input.key}`;
    const prior = this.recall<ReturnResult>(memoKey);
    if (prior) return prior;
    const now = Date.now();
    this.sweep(now);
    const row = this.row(input.reservationId);
    if (!row) return { ok: false, reason: "not_found" };
    if (row.returned) return { ok: true };
    if (row.status !== "committed") return { ok: false, reason: "not_committed" };
    const result = this.mutate((s) => {
      this.sql.exec(
        "UPDATE reservations SET status = 'released', returned = 1, updated_at = ? WHERE id = ?",
        now,
        row.id,
      );
      unsell(s, row.quantity);
      this.audit("order_return", 0, `${input.reason} (${row.id}, ${row.quantity} units)`, s.on_hand, now);
      const out: ReturnResult = { ok: true };
      this.store(memoKey, out, now);
      return out;
    });
    await this.pushReturns();
    return result;
  }

  // ---------------------------------------------------------------- admin (coordinator only)

  /** Sets the SKU's on-hand total (`mode: "set"`) or changes it by a delta; audited, idempotent by key. */
  async changeStock(
    addr: ShardAddress,
    input: { mode: "set" | "adjust"; value: number; reason: string; key: string },
  ): Promise<StockChangeResult> {
    this.bindCoordinator(addr);
    const memoKey = `stock:${input.key}`;
    const fingerprint = JSON.stringify([input.mode, input.value, input.reason]);
    if (this.keyReused(memoKey, fingerprint)) return { ok: false, reason: "idempotency_key_reused" };
    return this.withStock<StockChangeResult>((final) => {
      const prior = this.recall<StockChangeResult>(memoKey);
      if (prior) return { done: prior };
      const now = Date.now();
      this.sweep(now);
      const delta = input.mode === "set" ? input.value - this.st.sku_on_hand : input.value;
      if (delta < 0 && this.available() < -delta) {
        if (!final) return { need: -delta - this.available() };
        const out: StockChangeResult = {
          ok: false,
          reason: "stock_below_committed",
          on_hand: this.st.sku_on_hand,
          committed: this.st.sku_on_hand - this.available(),
        };
        return { done: out };
      }
      const result = this.mutate((s) => {
        s.on_hand += delta;
        s.sku_on_hand += delta;
        const adjustment = this.audit(input.mode, delta, input.reason, s.sku_on_hand, now);
        const out: StockChangeResult = { ok: true, adjustment, on_hand: s.sku_on_hand };
        this.store(memoKey, out, now, fingerprint);
        return out;
      });
      return { done: result };
    });
  }

  /** Updates the sale policy and/or shard count, then pushes it to every shard ever used. */
  async configure(addr: ShardAddress, input: { policy: Partial<SkuPolicy>; shards?: number }) {
    this.bindCoordinator(addr);
    this.mutate((s) => {
      s.policy = JSON.stringify({ ...this.policy(), ...input.policy });
      s.config_version += 1;
      if (input.shards !== undefined) {
        s.shard_count = input.shards;
        s.shards_used = Math.max(s.shards_used, input.shards > 1 ? input.shards + 1 : 1);
      }
    });
    await this.pushConfig();
    return { policy: this.policy(), shard_count: this.st.shard_count };
  }

  /** Shard count for routers; cached briefly by the service layer. */
  async routing(addr: ShardAddress): Promise<{ shardCount: number }> {
    this.bindCoordinator(addr);
    return { shardCount: this.st.shard_count };
  }

  /** The policy, read from the coordinator (the source of truth). */
  async getPolicy(addr: ShardAddress): Promise<SkuPolicy> {
    this.bindCoordinator(addr);
    return this.policy();
  }

  /** Exact per-SKU counters, summing every shard's snapshot plus units in transit. */
  async skuView(addr: ShardAddress): Promise<SkuView> {
    this.bindCoordinator(addr);
    const used = this.st.shards_used;
    const others = await Promise.all(
      range(1, used).map((shard) => this.stub(shard).snapshot({ sku: this.st.sku, shard })),
    );
    // Read our own side after the shards: see the conservation identity in the header comment.
    const now = Date.now();
    this.sweep(now);
    const inTransit = unitsInTransit(new Map(this.links().map((l) => [l.shard, l])), others);
    const mine = this.counters();
    const shards = [
      { shard: 0, active: true, ...mine },
      ...others.map((o) => ({
        shard: o.shard,
        active: o.active,
        on_hand: o.on_hand,
        available: o.available,
        reserved: o.reserved,
        sold: o.sold,
      })),
    ];
    const sum = (field: keyof StockCounters) => shards.reduce((total, s) => total + s[field], 0);
    const reservations = [...this.heldReservations(200), ...others.flatMap((o) => o.reservations)].slice(
      0,
      200,
    );
    return {
      sku: this.st.sku,
      known: this.st.config_version > 0 || this.adjustmentCount() > 0,
      on_hand: this.st.sku_on_hand,
      available: sum("available") + inTransit,
      reserved: sum("reserved"),
      sold: sum("sold"),
      in_transit: inTransit,
      shard_count: this.st.shard_count,
      policy: this.policy(),
      shards,
      reservations,
      adjustments: this.sql
        .exec<AdjustmentRow>("SELECT * FROM adjustments ORDER BY created_at DESC, id DESC LIMIT 20")
        .toArray()
        .map(adjustmentView),
    };
  }

  /**
   * Coordinator: every held reservation and every committed one changed since `since` (epoch
   * ms), across all shards, with the SKU's counters and each object's invariant violations.
   */
  async ledger(addr: ShardAddress, input: { since: number }): Promise<SkuLedger> {
    this.bindCoordinator(addr);
    const others = await Promise.all(
      range(1, this.st.shards_used).map((shard) =>
        this.stub(shard).ledgerEntries({ sku: this.st.sku, shard }, input),
      ),
    );
    const view = await this.skuView(addr);
    const mine = await this.ledgerEntries(addr, input);
    const parts = [mine, ...others];
    const violations = parts.flatMap((part) => part.violations.map((v) => `shard ${part.shard}: ${v}`));
    if (view.on_hand !== view.available + view.reserved + view.sold) {
      violations.push(
        `on_hand ${view.on_hand} != available ${view.available} + reserved ${view.reserved} + sold ${view.sold}`,
      );
    }
    return {
      sku: this.st.sku,
      on_hand: view.on_hand,
      available: view.available,
      reserved: view.reserved,
      sold: view.sold,
      entries: parts.flatMap((part) => part.entries),
      violations,
    };
  }

  /** This object's part of `ledger`. */
  async ledgerEntries(
    addr: ShardAddress,
    input: { since: number },
  ): Promise<{ shard: number; entries: LedgerEntry[]; violations: string[] }> {
    this.bind(addr);
    this.sweep(Date.now());
    const rows = this.sql
      .exec<ReservationRow & { updated_at: number }>(
        `SELECT * FROM reservations WHERE status = 'held' OR (status = 'committed' AND updated_at >= ?)`,
        input.since,
      )
      .toArray();
    const { violations } = await this.checkInvariants(addr);
    return {
      shard: this.st.shard,
      violations,
      entries: rows.map((row) => ({
        id: row.id,
        shard: this.st.shard,
        holder: row.holder,
        status: row.status as LedgerEntry["status"],
        quantity: row.quantity,
        order_id: row.order_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
      })),
    };
  }

  // ---------------------------------------------------------------- shard protocol

  /** Coordinator side of an exchange: apply the shard's returns, then grant it units. */
  async sync(
    addr: ShardAddress,
    input: { shard: number; returnedTotal: number; want: number },
  ): Promise<SyncReply> {
    this.bindCoordinator(addr);
    this.applyReturn(input.shard, input.returnedTotal);
    const active = isActiveShard(input.shard, this.st.shard_count);
    if (active && input.want > 0) {
      this.sweep(Date.now());
      if (this.available() < input.want) await this.steal(input.want - this.available(), input.shard);
      this.sweep(Date.now());
    }
    const give = grantSize(this.available(), input.want, this.st.shard_count, active);
    if (give > 0) this.mayHave?.add(input.shard);
    const link = this.mutate((s) => {
      s.on_hand -= give;
      this.sql.exec(
        "INSERT INTO shard_links (shard, granted_total) VALUES (?, ?) ON CONFLICT (shard) DO UPDATE SET granted_total = granted_total + excluded.granted_total",
        input.shard,
        give,
      );
      return this.link(input.shard);
    });
    return {
      grantedTotal: link.granted_total,
      returnedSeen: link.returned_seen,
      configVersion: this.st.config_version,
      active,
      shardCount: this.st.shard_count,
      policy: this.policy(),
      exhausted: give < input.want,
    };
  }

  /** Shard side of a steal: apply any grant in transit, then hand back up to `want` available units. */
  async giveBack(addr: ShardAddress, input: { grantedTotal: number; want: number }) {
    this.bind(addr);
    this.sweep(Date.now());
    return this.mutate((s) => {
      applyGrant(s, input.grantedTotal);
      const { remaining } = giveBack(s, input.want);
      return { returnedTotal: s.returned_total, remaining, grantedSeen: s.granted_seen };
    });
  }

  /** Shard side of a configuration push; retiring shards hand back all available units. */
  async applyConfig(addr: ShardAddress, config: ShardConfig) {
    this.bind(addr);
    this.sweep(Date.now());
    return this.mutate((s) => {
      applyGrant(s, config.grantedTotal);
      this.adoptConfig(s, config);
      return { returnedTotal: s.returned_total };
    });
  }

  /** This object's own counters, ledger and protocol state. */
  async snapshot(addr: ShardAddress): Promise<ObjectSnapshot> {
    this.bind(addr);
    this.sweep(Date.now());
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

  /** Recomputes the counters from the ledger and the transfer counters and compares. */
  async checkInvariants(addr: ShardAddress): Promise<InvariantReport> {
    this.bind(addr);
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
    let expectedOnHand: number;
    if (this.st.shard === 0) {
      const adjusted = this.sql
        .exec<{ total: number }>("SELECT COALESCE(SUM(delta), 0) AS total FROM adjustments")
        .one().total;
      if (adjusted !== this.st.sku_on_hand)
        violations.push(`sku_on_hand ${this.st.sku_on_hand} != audit ${adjusted}`);
      const links = this.links();
      expectedOnHand =
        adjusted -
        links.reduce((t, l) => t + l.granted_total, 0) +
        links.reduce((t, l) => t + l.returned_seen, 0);
    } else {
      expectedOnHand = this.st.granted_seen - this.st.returned_total;
    }
    if (c.on_hand !== expectedOnHand) violations.push(`on_hand ${c.on_hand} != transfers ${expectedOnHand}`);
    return { ok: violations.length === 0, violations };
  }

  // ---------------------------------------------------------------- alarm

  /**
   * The one alarm: the next reservation expiry, or a throttled snapshot publication, or a retry
   * of returns in transit, whichever is first. Safe to run twice, late, or after a restart:
   * everything it does is derived from storage.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (this.st.shard < 0) return;
    const now = Date.now();
    this.sweep(now, true);
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_RETENTION_MS);
    if (this.st.version > this.st.published_version && now - this.st.published_at >= PUBLISH_INTERVAL_MS) {
      await this.publish();
    }
    if (this.returnsPending()) await this.pushReturns();
    this.rearm();
  }

  // ---------------------------------------------------------------- internals

  private bind(addr: ShardAddress): void {
    if (this.st.shard === addr.shard && this.st.sku === addr.sku) return;
    if (this.st.shard !== -1)
      throw new Error(`object ${objectName(this.st)} addressed as ${objectName(addr)}`);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE state SET sku = ?, shard = ? WHERE id = 1", addr.sku, addr.shard);
    });
    this.st = { ...this.st, sku: addr.sku, shard: addr.shard };
  }

  private bindCoordinator(addr: ShardAddress): void {
    if (addr.shard !== 0) throw new Error("coordinator operations go to shard 0");
    this.bind(addr);
  }

  private stub(shard: number) {
    return this.env.INVENTORY.getByName(objectName({ sku: this.st.sku, shard }));
  }

  private retired(): boolean {
    return this.st.shard > 0 && this.st.active === 0;
  }

  private policy(): SkuPolicy {
    return { ...DEFAULT_POLICY, ...(JSON.parse(this.st.policy) as Partial<SkuPolicy>) };
  }

  private counters(): StockCounters {
    const { on_hand, reserved, sold } = this.st;
    return { on_hand, available: availableOf(this.st), reserved, sold };
  }

  private available(): number {
    return availableOf(this.st);
  }

  private refuse(reason: ReserveRefusal) {
    return { ok: false as const, reason, available: Math.max(0, this.available()) };
  }

  /** Growing a sale behind a waiting room takes an unexpired admission to that room. */
  private admissionGate(policy: SkuPolicy, admission: Admission | undefined, now: number) {
    const reason = admissionRefusal(policy.waiting_room, admission, now);
    if (!reason || policy.waiting_room === null) return null;
    return { ...this.refuse(reason), waiting_room: policy.waiting_room };
  }

  private windowRefusal(policy: SkuPolicy, now: number): ReserveRefusal | null {
    if (policy.sale_starts_at && now < Date.parse(policy.sale_starts_at)) return "sale_not_started";
    if (policy.sale_ends_at && now >= Date.parse(policy.sale_ends_at)) return "sale_ended";
    return null;
  }

  private quantityRefusal(policy: SkuPolicy, quantity: number): ReserveRefusal | null {
    return policy.max_per_reservation !== null && quantity > policy.max_per_reservation
      ? "quantity_too_large"
      : null;
  }

  /** Limits count units held or bought; `excluding` leaves out the reservation being resized. */
  private limitRefusal(
    policy: SkuPolicy,
    holder: string,
    customer: string | null,
    extra: number,
    excluding: string | null,
  ): ReserveRefusal | null {
    const taken = (column: "holder" | "customer", value: string) =>
      this.sql
        .exec<{ total: number }>(
          `SELECT COALESCE(SUM(quantity), 0) AS total FROM reservations
           WHERE ${column} = ? AND status IN ('held', 'committed') AND id IS NOT ?`,
          value,
          excluding,
        )
        .one().total;
    if (policy.per_holder_limit !== null && taken("holder", holder) + extra > policy.per_holder_limit) {
      return "limit_exceeded";
    }
    if (
      customer !== null &&
      policy.per_customer_limit !== null &&
      taken("customer", customer) + extra > policy.per_customer_limit
    ) {
      return "limit_exceeded";
    }
    return null;
  }

  /**
   * Runs `attempt` (synchronous: check and write with no await in between); when it needs units
   * it does not have, fetches them and tries again. The last attempt is `final`: it must decide.
   */
  private async withStock<R>(attempt: (final: boolean) => { done: R } | { need: number }): Promise<R> {
    let final = this.st.shard === 0 && this.st.shards_used <= 1;
    for (let round = 0; ; round++) {
      const step = attempt(final || round >= MAX_ACQUIRE_ROUNDS);
      if ("done" in step) return step.done;
      final = await this.acquire(step.need);
    }
  }

  /** Fetches at least `need` units if the SKU has them; true when it reported it has none left. */
  private async acquire(need: number): Promise<boolean> {
    if (this.retired()) return true;
    if (this.st.shard === 0) {
      if (this.st.shards_used <= 1) return true;
      const before = this.available();
      await this.steal(need, 0);
      return this.available() - before < need;
    }
    // Concurrent buyers on this shard share one pull; a buyer still short afterwards pulls again.
    if (!this.pulling) {
      this.pulling = this.pull(need).finally(() => {
        this.pulling = null;
      });
    }
    return (await this.pulling).exhausted;
  }

  private async pull(want: number): Promise<SyncReply> {
    const reply = await this.stub(0).sync(
      { sku: this.st.sku, shard: 0 },
      { shard: this.st.shard, returnedTotal: this.st.returned_total, want },
    );
    this.mutate((s) => {
      applyGrant(s, reply.grantedTotal);
      s.returned_acked = Math.max(s.returned_acked, reply.returnedSeen);
      this.adoptConfig(s, { ...reply });
    });
    return reply;
  }

  /**
   * Coordinator: takes up to `need` available units back from the other shards, asking them all
   * at once. Concurrent callers for the same requester share one round (a sold-out SKU would
   * otherwise see one round per refused buyer); anything collected beyond `need` joins the pool.
   */
  private async steal(need: number, requester: number): Promise<void> {
    let round = this.stealing.get(requester);
    if (!round) {
      round = this.stealRound(need, requester).finally(() => this.stealing.delete(requester));
      this.stealing.set(requester, round);
    }
    await round;
  }

  private async stealRound(need: number, requester: number): Promise<void> {
    this.mayHave ??= new Set(range(1, this.st.shards_used));
    const candidates = this.mayHave;
    const shards = [...candidates].filter((shard) => shard !== requester);
    await Promise.all(
      shards.map(async (shard) => {
        const reply = await this.stub(shard).giveBack(
          { sku: this.st.sku, shard },
          { grantedTotal: this.link(shard).granted_total, want: need },
        );
        this.applyReturn(shard, reply.returnedTotal);
        // A drained shard sends back whatever it frees, so until it is granted units again it has
        // none; a grant made while this reply was on its way keeps it a candidate.
        if (reply.remaining === 0 && this.link(shard).granted_total === reply.grantedSeen)
          candidates.delete(shard);
      }),
    );
  }

  private async pushConfig(): Promise<void> {
    this.mayHave = null;
    const used = this.st.shards_used;
    await Promise.all(
      range(1, used).map(async (shard) => {
        const reply = await this.stub(shard).applyConfig(
          { sku: this.st.sku, shard },
          {
            configVersion: this.st.config_version,
            active: isActiveShard(shard, this.st.shard_count),
            shardCount: this.st.shard_count,
            policy: this.policy(),
            grantedTotal: this.link(shard).granted_total,
          },
        );
        this.applyReturn(shard, reply.returnedTotal);
      }),
    );
  }

  /** Retired shards return freed units to the coordinator; retried from the alarm until acknowledged. */
  private async pushReturns(): Promise<void> {
    for (let attempt = 0; attempt < 3 && this.returnsPending(); attempt++) {
      this.pushing ??= this.pull(0)
        .then(() => undefined)
        .finally(() => {
          this.pushing = null;
        });
      try {
        await this.pushing;
      } catch (error) {
        log("warn", "inventory_return_push_failed", { object: objectName(this.st), error: String(error) });
        return;
      }
    }
  }

  private returnsPending(): boolean {
    return this.st.shard > 0 && this.st.returned_total > this.st.returned_acked;
  }

  /** Coordinator: applies a shard's cumulative `returned_total`; returns how many units arrived. */
  private applyReturn(shard: number, returnedTotal: number): number {
    const delta = unseen(returnedTotal, this.link(shard).returned_seen);
    if (delta === 0) return 0;
    this.mutate((s) => {
      s.on_hand += delta;
      this.sql.exec(
        "INSERT INTO shard_links (shard, returned_seen) VALUES (?, ?) ON CONFLICT (shard) DO UPDATE SET returned_seen = excluded.returned_seen",
        shard,
        returnedTotal,
      );
    });
    return delta;
  }

  private adoptConfig(s: StateRow, config: Omit<ShardConfig, "grantedTotal">): void {
    if (config.configVersion <= s.config_version) return;
    s.config_version = config.configVersion;
    s.shard_count = config.shardCount;
    s.policy = JSON.stringify(config.policy);
    applyActivity(s, config.active);
  }

  /** Expires held reservations whose deadline passed; cheap unless one is actually due. */
  private sweep(now: number, force = false): void {
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

  /**
   * Applies `change` to a copy of the state inside one storage transaction, then follows up:
   * next expiry, alarm, snapshot publication, returns in transit.
   */
  private mutate<T>(change: (s: StateRow) => T): T {
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

  private queryNextExpiry(): number | null {
    return this.sql
      .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM reservations WHERE status = 'held'")
      .one().next;
  }

  private rearm(): void {
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

  /** The reservation `id` if it is still held (expiries applied first), else why not. */
  private heldRow(
    addr: ShardAddress,
    id: string,
    now: number,
  ): ReservationRow | { ok: false; reason: "not_found" | "not_held" } {
    this.bind(addr);
    this.sweep(now);
    const row = this.row(id);
    if (!row) return { ok: false, reason: "not_found" };
    if (row.status !== "held") return { ok: false, reason: "not_held" };
    return row;
  }

  private row(id: string): ReservationRow | null {
    return this.sql.exec<ReservationRow>("SELECT * FROM reservations WHERE id = ?", id).toArray()[0] ?? null;
  }

  private view(row: ReservationRow): ReservationView {
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

  private heldReservations(limit: number): ReservationView[] {
    return this.sql
      .exec<ReservationRow>(
        "SELECT * FROM reservations WHERE status = 'held' ORDER BY expires_at LIMIT ?",
        limit,
      )
      .toArray()
      .map((row) => this.view(row));
  }

  private link(shard: number): LinkRow {
    return (
      this.sql.exec<LinkRow>("SELECT * FROM shard_links WHERE shard = ?", shard).toArray()[0] ?? {
        shard,
        granted_total: 0,
        returned_seen: 0,
      }
    );
  }

  private links(): LinkRow[] {
    return this.sql.exec<LinkRow>("SELECT * FROM shard_links").toArray();
  }

  private adjustmentCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM adjustments").one().n;
  }

  private audit(
    kind: AdjustmentView["kind"],
    delta: number,
    reason: string,
    onHandAfter: number,
    now: number,
  ) {
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

  private recall<T>(key: string): T | null {
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
  private keyReused(key: string, fingerprint: string): boolean {
    const row = this.sql
      .exec<{ fingerprint: string | null }>("SELECT fingerprint FROM idempotency WHERE key = ?", key)
      .toArray()[0];
    return row !== undefined && row.fingerprint !== null && row.fingerprint !== fingerprint;
  }

  private store(key: string, result: unknown, now: number, fingerprint: string | null = null): void {
    this.sql.exec(
      "INSERT INTO idempotency (key, result, created_at, fingerprint) VALUES (?, ?, ?, ?)",
      key,
      JSON.stringify(result),
      now,
      fingerprint,
    );
  }

  /** Stores a refusal under the key (so a retry repeats it) and returns it. */
  private remember<T>(key: string, result: T, fingerprint: string | null = null): T {
    this.ctx.storage.transactionSync(() => this.store(key, result, Date.now(), fingerprint));
    return result;
  }
}

/** Shard n ≥ 1 takes buyers only while the SKU is sharded and n is within 1..N. */
const isActiveShard = (shard: number, shardCount: number) =>
  shardCount > 1 && shard >= 1 && shard <= shardCount;

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
