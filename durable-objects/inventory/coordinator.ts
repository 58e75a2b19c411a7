import { grantSize, unitsInTransit, unseen } from "../../workers/inventory/counters";
import type { SkuLedger, SkuView, StockChangeResult, SyncReply } from "../../workers/inventory/rpc";
import type { SkuPolicy, StockCounters } from "../../workers/inventory/types";
import { type AdjustmentRow, adjustmentView } from "../inventory-storage";
import type { WithStock } from "./reservations";
import { type InventoryStore, range } from "./store";

/**
 * Coordinator-only behaviour (object `sku:<SKU>`, "shard 0"; see the protocol in
 * `durable-objects/inventory.ts`): the SKU's total and its audit trail, the policy and shard
 * count pushed to every shard, grants to shards that pull, steals from shards when short, and
 * the SKU-wide views that sum every shard.
 */
export class CoordinatorSide {
  private readonly stealing = new Map<number, Promise<void>>();
  /** Shards that may hold available units (null after a restart or a re-shard: all of them). */
  private mayHave: Set<number> | null = null;

  constructor(
    private readonly store: InventoryStore,
    private readonly withStock: WithStock,
  ) {}

  /** Fetches at least `need` units if the SKU has them; true when it reported it has none left. */
  async acquire(need: number): Promise<boolean> {
    if (this.store.st.shards_used <= 1) return true;
    const before = this.store.available();
    await this.steal(need, 0);
    return this.store.available() - before < need;
  }

  // ---------------------------------------------------------------- admin

  /** Sets the SKU's on-hand total (`mode: "set"`) or changes it by a delta; audited, idempotent by key. */
  changeStock(input: {
    mode: "set" | "adjust";
    value: number;
    reason: string;
    key: string;
  }): Promise<StockChangeResult> {
    const { store } = this;
    const memoKey = `stock:${input.key}`;
    const fingerprint = JSON.stringify([input.mode, input.value, input.reason]);
    if (store.keyReused(memoKey, fingerprint))
      return Promise.resolve({ ok: false, reason: "idempotency_key_reused" });
    return this.withStock<StockChangeResult>((final) => {
      const prior = store.recall<StockChangeResult>(memoKey);
      if (prior) return { done: prior };
      const now = Date.now();
      store.sweep(now);
      const delta = input.mode === "set" ? input.value - store.st.sku_on_hand : input.value;
      if (delta < 0 && store.available() < -delta) {
        if (!final) return { need: -delta - store.available() };
        const out: StockChangeResult = {
          ok: false,
          reason: "stock_below_committed",
          on_hand: store.st.sku_on_hand,
          committed: store.st.sku_on_hand - store.available(),
        };
        return { done: out };
      }
      const result = store.mutate((s) => {
        s.on_hand += delta;
        s.sku_on_hand += delta;
        const adjustment = store.audit(input.mode, delta, input.reason, s.sku_on_hand, now);
        const out: StockChangeResult = { ok: true, adjustment, on_hand: s.sku_on_hand };
        store.memoize(memoKey, out, now, fingerprint);
        return out;
      });
      return { done: result };
    });
  }

  /** Updates the sale policy and/or shard count, then pushes it to every shard ever used. */
  async configure(input: { policy: Partial<SkuPolicy>; shards?: number }) {
    const { store } = this;
    store.mutate((s) => {
      s.policy = JSON.stringify({ ...store.policy(), ...input.policy });
      s.config_version += 1;
      if (input.shards !== undefined) {
        s.shard_count = input.shards;
        s.shards_used = Math.max(s.shards_used, input.shards > 1 ? input.shards + 1 : 1);
      }
    });
    await this.pushConfig();
    return { policy: store.policy(), shard_count: store.st.shard_count };
  }

  /** Exact per-SKU counters, summing every shard's snapshot plus units in transit. */
  async skuView(): Promise<SkuView> {
    const { store } = this;
    const sku = store.st.sku;
    const others = await Promise.all(
      range(1, store.st.shards_used).map((shard) => store.stub(shard).snapshot({ sku, shard })),
    );
    // Read our own side after the shards: see the conservation identity in the protocol comment.
    store.sweep(Date.now());
    const inTransit = unitsInTransit(new Map(store.links().map((l) => [l.shard, l])), others);
    const shards = [
      { shard: 0, active: true, ...store.counters() },
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
    const reservations = [...store.heldReservations(200), ...others.flatMap((o) => o.reservations)].slice(
      0,
      200,
    );
    return {
      sku,
      known: store.st.config_version > 0 || this.adjustmentCount() > 0,
      on_hand: store.st.sku_on_hand,
      available: sum("available") + inTransit,
      reserved: sum("reserved"),
      sold: sum("sold"),
      in_transit: inTransit,
      shard_count: store.st.shard_count,
      policy: store.policy(),
      shards,
      reservations,
      adjustments: store.sql
        .exec<AdjustmentRow>("SELECT * FROM adjustments ORDER BY created_at DESC, id DESC LIMIT 20")
        .toArray()
        .map(adjustmentView),
    };
  }

  /**
   * Every held reservation and every committed one changed since `since` (epoch ms), across
   * all shards, with the SKU's counters and each object's invariant violations. `mine` is this
   * object's own part (the same as a shard's `ledgerEntries`).
   */
  async ledger(input: { since: number }, mine: () => Promise<SkuLedgerPart>): Promise<SkuLedger> {
    const { store } = this;
    const sku = store.st.sku;
    const others = await Promise.all(
      range(1, store.st.shards_used).map((shard) => store.stub(shard).ledgerEntries({ sku, shard }, input)),
    );
    const view = await this.skuView();
    const parts = [await mine(), ...others];
    const violations = parts.flatMap((part) => part.violations.map((v) => `shard ${part.shard}: ${v}`));
    if (view.on_hand !== view.available + view.reserved + view.sold) {
      violations.push(
        `on_hand ${view.on_hand} != available ${view.available} + reserved ${view.reserved} + sold ${view.sold}`,
      );
    }
    return {
      sku,
      on_hand: view.on_hand,
      available: view.available,
      reserved: view.reserved,
      sold: view.sold,
      entries: parts.flatMap((part) => part.entries),
      violations,
    };
  }

  /**
   * What the coordinator's on-hand must be: the audited total less what it granted, plus what
   * came back. Pushes a violation when the SKU's total disagrees with its audit trail.
   */
  expectedOnHand(violations: string[]): number {
    const { store } = this;
    const adjusted = store.sql
      .exec<{ total: number }>("SELECT COALESCE(SUM(delta), 0) AS total FROM adjustments")
      .one().total;
    if (adjusted !== store.st.sku_on_hand)
      violations.push(`sku_on_hand ${store.st.sku_on_hand} != audit ${adjusted}`);
    const links = store.links();
    return (
      adjusted -
      links.reduce((t, l) => t + l.granted_total, 0) +
      links.reduce((t, l) => t + l.returned_seen, 0)
    );
  }

  // ---------------------------------------------------------------- shard protocol

  /** An exchange a shard started: apply its returns, then grant it units. */
  async sync(input: { shard: number; returnedTotal: number; want: number }): Promise<SyncReply> {
    const { store } = this;
    this.applyReturn(input.shard, input.returnedTotal);
    const active = isActiveShard(input.shard, store.st.shard_count);
    if (active && input.want > 0) {
      store.sweep(Date.now());
      if (store.available() < input.want) await this.steal(input.want - store.available(), input.shard);
      store.sweep(Date.now());
    }
    const give = grantSize(store.available(), input.want, store.st.shard_count, active);
    if (give > 0) this.mayHave?.add(input.shard);
    const link = store.mutate((s) => {
      s.on_hand -= give;
      store.sql.exec(
        "INSERT INTO shard_links (shard, granted_total) VALUES (?, ?) ON CONFLICT (shard) DO UPDATE SET granted_total = granted_total + excluded.granted_total",
        input.shard,
        give,
      );
      return store.link(input.shard);
    });
    return {
      grantedTotal: link.granted_total,
      returnedSeen: link.returned_seen,
      configVersion: store.st.config_version,
      active,
      shardCount: store.st.shard_count,
      policy: store.policy(),
      exhausted: give < input.want,
    };
  }

  /**
   * Takes up to `need` available units back from the other shards, asking them all at once.
   * Concurrent callers for the same requester share one round (a sold-out SKU would otherwise
   * see one round per refused buyer); anything collected beyond `need` joins the pool.
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
    const { store } = this;
    this.mayHave ??= new Set(range(1, store.st.shards_used));
    const candidates = this.mayHave;
    const shards = [...candidates].filter((shard) => shard !== requester);
    await Promise.all(
      shards.map(async (shard) => {
        const reply = await store
          .stub(shard)
          .giveBack(
            { sku: store.st.sku, shard },
            { grantedTotal: store.link(shard).granted_total, want: need },
          );
        this.applyReturn(shard, reply.returnedTotal);
        // A drained shard sends back whatever it frees, so until it is granted units again it has
        // none; a grant made while this reply was on its way keeps it a candidate.
        if (reply.remaining === 0 && store.link(shard).granted_total === reply.grantedSeen)
          candidates.delete(shard);
      }),
    );
  }

  private async pushConfig(): Promise<void> {
    const { store } = this;
    this.mayHave = null;
    await Promise.all(
      range(1, store.st.shards_used).map(async (shard) => {
        const reply = await store.stub(shard).applyConfig(
          { sku: store.st.sku, shard },
          {
            configVersion: store.st.config_version,
            active: isActiveShard(shard, store.st.shard_count),
            shardCount: store.st.shard_count,
            policy: store.policy(),
            grantedTotal: store.link(shard).granted_total,
          },
        );
        this.applyReturn(shard, reply.returnedTotal);
      }),
    );
  }

  /** Applies a shard's cumulative `returned_total`; returns how many units arrived. */
  private applyReturn(shard: number, returnedTotal: number): number {
    const { store } = this;
    const delta = unseen(returnedTotal, store.link(shard).returned_seen);
    if (delta === 0) return 0;
    store.mutate((s) => {
      s.on_hand += delta;
      store.sql.exec(
        "INSERT INTO shard_links (shard, returned_seen) VALUES (?, ?) ON CONFLICT (shard) DO UPDATE SET returned_seen = excluded.returned_seen",
        shard,
        returnedTotal,
      );
    });
    return delta;
  }

  private adjustmentCount(): number {
    return this.store.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM adjustments").one().n;
  }
}

/** One object's part of a SKU's ledger. */
export type SkuLedgerPart = { shard: number; entries: SkuLedger["entries"]; violations: string[] };

/** Shard n ≥ 1 takes buyers only while the SKU is sharded and n is within 1..N. */
const isActiveShard = (shard: number, shardCount: number) =>
  shardCount > 1 && shard >= 1 && shard <= shardCount;
