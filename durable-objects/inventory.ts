import { DurableObject } from "cloudflare:workers";
import type {
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
  ReturnResult,
  ShardConfig,
  SkuLedger,
  SkuView,
  StockChangeResult,
  SyncReply,
} from "../workers/inventory/rpc";
import type { ReservationView, ShardAddress, SkuPolicy } from "../workers/inventory/types";
import type { Admission } from "../workers/waiting-room/admission";
import { CoordinatorSide } from "./inventory/coordinator";
import { type Attempt, Reservations } from "./inventory/reservations";
import { ShardSide } from "./inventory/shard";
import { InventoryStore } from "./inventory/store";

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
 *
 * Where it lives: this class is the RPC surface, the alarm and the dispatch by role; one
 * object's storage (state row, ledger, memo, publication) is `inventory/store.ts`, the buyer
 * operations both roles serve `inventory/reservations.ts`, the coordinator's part
 * `inventory/coordinator.ts`, a shard's part `inventory/shard.ts`, and the counter arithmetic
 * the pure `workers/inventory/counters.ts`.
 */

const MAX_ACQUIRE_ROUNDS = 6;

/**
 * One object per SKU shard: the only place a unit of stock is granted, so oversell is
 * impossible by construction (every grant is a synchronous check-and-write on this object's
 * SQLite). Every RPC takes the caller's `ShardAddress` so the object knows its own name, and
 * the first call stores it: not `ctx.id.name`, which is absent for an object reached through
 * `idFromString` and, in workerd, for an alarm that wakes a cold instance, while the alarm
 * needs the name to publish availability and hand units back.
 */
export class InventoryObject extends DurableObject<Env> {
  private readonly store: InventoryStore;
  private readonly buyers: Reservations;
  private readonly coordinator: CoordinatorSide;
  private readonly shardSide: ShardSide;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const pushReturns = () => this.shardSide.pushReturns();
    const withStock = <R>(attempt: Attempt<R>) => this.withStock(attempt);
    this.store = new InventoryStore(ctx, env, pushReturns);
    this.shardSide = new ShardSide(this.store);
    this.coordinator = new CoordinatorSide(this.store, withStock);
    this.buyers = new Reservations(this.store, withStock, pushReturns);
  }

  // ---------------------------------------------------------------- buyer operations (any role)

  /** Grants `quantity` units to `holder` or refuses with a reason; idempotent by `key`. */
  async reserve(addr: ShardAddress, input: ReserveInput): Promise<ReserveResult> {
    this.store.bind(addr);
    return this.buyers.reserve(input);
  }

  /**
   * Add-to-cart: reserves like `reserve` when the SKU's policy holds stock from add-to-cart,
   * else grants nothing (`reservation: null`); refuses `customer_required` when the sale limits
   * units per customer and none is named.
   */
  async reserveOnAdd(addr: ShardAddress, input: ReserveInput): Promise<ReserveOnAddResult> {
    this.store.bind(addr);
    return this.buyers.reserveOnAdd(input);
  }

  /** Changes a held reservation's quantity atomically (growing takes units, shrinking frees them). */
  async resize(
    addr: ShardAddress,
    input: { reservationId: string; quantity: number; key: string; admission?: Admission },
  ) {
    this.store.bind(addr);
    return this.buyers.resize(input);
  }

  /** Moves a held reservation's deadline to now + `ttlSeconds`, never past its life cap. */
  async extend(
    addr: ShardAddress,
    input: { reservationId: string; ttlSeconds?: number; admission?: Admission },
  ): Promise<ExtendResult> {
    this.store.bind(addr);
    return this.buyers.extend(input);
  }

  /** Takes back what a checkout added to a hold's life. */
  async curtail(addr: ShardAddress, input: { reservationId: string }): Promise<CurtailResult> {
    this.store.bind(addr);
    return this.buyers.curtail(input);
  }

  /** Hands a held reservation to `customer`, checking the sale's per-customer limit for them. */
  async reassign(
    addr: ShardAddress,
    input: { reservationId: string; customer: string },
  ): Promise<ReassignResult> {
    this.store.bind(addr);
    return this.buyers.reassign(input);
  }

  /** One reservation as the ledger holds it (a hold about to move between shards). */
  async reservation(
    addr: ShardAddress,
    input: { reservationId: string },
  ): Promise<(ReservationView & { customer: string | null }) | null> {
    this.store.bind(addr);
    return this.buyers.reservation(input);
  }

  /** Returns a held reservation's units to available. Releasing twice, or after expiry, is fine. */
  async release(addr: ShardAddress, input: { reservationId: string }): Promise<ReleaseResult> {
    this.store.bind(addr);
    return this.buyers.release(input);
  }

  /** Turns a held reservation into a sale; committing again for the same order is a no-op. */
  async commit(
    addr: ShardAddress,
    input: { reservationId: string; orderId: string; customer?: string },
  ): Promise<CommitResult> {
    this.store.bind(addr);
    return this.buyers.commit(input);
  }

  /** An order was cancelled: its sold units become available again, with an audit entry. */
  async returnCommitted(
    addr: ShardAddress,
    input: { reservationId: string; reason: string; key: string },
  ): Promise<ReturnResult> {
    this.store.bind(addr);
    return this.buyers.returnCommitted(input);
  }

  // ---------------------------------------------------------------- admin (coordinator only)

  /** Sets the SKU's on-hand total (`mode: "set"`) or changes it by a delta; audited, idempotent by key. */
  async changeStock(
    addr: ShardAddress,
    input: { mode: "set" | "adjust"; value: number; reason: string; key: string },
  ): Promise<StockChangeResult> {
    this.bindCoordinator(addr);
    return this.coordinator.changeStock(input);
  }

  /** Updates the sale policy and/or shard count, then pushes it to every shard ever used. */
  async configure(addr: ShardAddress, input: { policy: Partial<SkuPolicy>; shards?: number }) {
    this.bindCoordinator(addr);
    return this.coordinator.configure(input);
  }

  /** Shard count for routers; cached briefly by the service layer. */
  async routing(addr: ShardAddress): Promise<{ shardCount: number }> {
    this.bindCoordinator(addr);
    return { shardCount: this.store.st.shard_count };
  }

  /** The policy, read from the coordinator (the source of truth). */
  async getPolicy(addr: ShardAddress): Promise<SkuPolicy> {
    this.bindCoordinator(addr);
    return this.store.policy();
  }

  /** Exact per-SKU counters, summing every shard's snapshot plus units in transit. */
  async skuView(addr: ShardAddress): Promise<SkuView> {
    this.bindCoordinator(addr);
    return this.coordinator.skuView();
  }

  /**
   * Every held reservation and every committed one changed since `since` (epoch ms), across all
   * shards, with the SKU's counters and each object's invariant violations.
   */
  async ledger(addr: ShardAddress, input: { since: number }): Promise<SkuLedger> {
    this.bindCoordinator(addr);
    return this.coordinator.ledger(input, () => this.ledgerEntries(addr, input));
  }

  /** This object's part of `ledger`. */
  async ledgerEntries(
    addr: ShardAddress,
    input: { since: number },
  ): Promise<{ shard: number; entries: LedgerEntry[]; violations: string[] }> {
    this.store.bind(addr);
    this.store.sweep(Date.now());
    const entries = this.store.ledgerEntries(input.since);
    const { violations } = await this.checkInvariants(addr);
    return { shard: this.store.st.shard, violations, entries };
  }

  // ---------------------------------------------------------------- shard protocol

  /** Coordinator side of an exchange: apply the shard's returns, then grant it units. */
  async sync(
    addr: ShardAddress,
    input: { shard: number; returnedTotal: number; want: number },
  ): Promise<SyncReply> {
    this.bindCoordinator(addr);
    return this.coordinator.sync(input);
  }

  /** Shard side of a steal: apply any grant in transit, then hand back up to `want` available units. */
  async giveBack(addr: ShardAddress, input: { grantedTotal: number; want: number }) {
    this.store.bind(addr);
    return this.shardSide.giveBack(input);
  }

  /** Shard side of a configuration push; retiring shards hand back all available units. */
  async applyConfig(addr: ShardAddress, config: ShardConfig) {
    this.store.bind(addr);
    return this.shardSide.applyConfig(config);
  }

  /** This object's own counters, ledger and protocol state. */
  async snapshot(addr: ShardAddress): Promise<ObjectSnapshot> {
    this.store.bind(addr);
    this.store.sweep(Date.now());
    return this.store.snapshot();
  }

  /** Recomputes the counters from the ledger and the transfer counters and compares. */
  async checkInvariants(addr: ShardAddress): Promise<InvariantReport> {
    this.store.bind(addr);
    const violations = this.store.ledgerViolations();
    const expectedOnHand = this.store.isCoordinator()
      ? this.coordinator.expectedOnHand(violations)
      : this.shardSide.expectedOnHand();
    const onHand = this.store.st.on_hand;
    if (onHand !== expectedOnHand) violations.push(`on_hand ${onHand} != transfers ${expectedOnHand}`);
    return { ok: violations.length === 0, violations };
  }

  // ---------------------------------------------------------------- alarm

  /**
   * The one alarm: the next reservation expiry, or a throttled snapshot publication, or a retry
   * of returns in transit, whichever is first. Safe to run twice, late, or after a restart:
   * everything it does is derived from storage.
   */
  override async alarm(): Promise<void> {
    this.store.alarmFired();
    if (this.store.st.shard < 0) return;
    await this.store.housekeep(Date.now());
    if (this.store.returnsPending()) await this.shardSide.pushReturns();
    this.store.rearm();
  }

  // ---------------------------------------------------------------- dispatch

  private bindCoordinator(addr: ShardAddress): void {
    if (addr.shard !== 0) throw new Error("coordinator operations go to shard 0");
    this.store.bind(addr);
  }

  /**
   * Runs `attempt` (synchronous: check and write with no await in between); when it needs units
   * it does not have, fetches them and tries again. The last attempt is `final`: it must decide.
   */
  private async withStock<R>(attempt: Attempt<R>): Promise<R> {
    let final = this.store.isCoordinator() && this.store.st.shards_used <= 1;
    for (let round = 0; ; round++) {
      const step = attempt(final || round >= MAX_ACQUIRE_ROUNDS);
      if ("done" in step) return step.done;
      final = await this.acquire(step.need);
    }
  }

  /**
   * Fetches at least `need` units if the SKU has them; true when it reported it has none left.
   * The coordinator takes them back from shards, a shard pulls them from the coordinator.
   */
  private async acquire(need: number): Promise<boolean> {
    if (this.store.retired()) return true;
    return this.store.isCoordinator() ? this.coordinator.acquire(need) : this.shardSide.acquire(need);
  }
}
