import type { Admission, AdmissionRefusal } from "../waiting-room/admission";
import type { ReservationView, ReserveRefusal, SkuPolicy, StockCounters } from "./types";

/*
 * The inventory objects' RPC contract (durable-objects/inventory.ts): inputs and result types.
 * Refusals are values; the previous release's callers must keep working (test/compat-rpc).
 */

export interface ReserveInput {
  holder: string;
  customer?: string | null;
  quantity: number;
  ttlSeconds?: number;
  key: string;
  /** The request's waiting-room admissions; required when the sale has a waiting room. */
  admission?: Admission;
  /**
   * The key was minted for this one call and is never sent again (add-to-cart, line resizes):
   * a refusal is answered without being stored under it. Grants are always stored.
   */
  singleUse?: boolean;
  /**
   * A hold moving here from another shard (a cart's email changed): it keeps the first grant's
   * time and deadline, so moving never renews a hold.
   */
  carry?: { createdAt: number; expiresAt: number };
}

/**
 * `shard_retired` never leaves the service layer: it re-reads the shard count and retries.
 * Admission refusals name the `waiting_room` to join.
 */
export type ReserveResult =
  | { ok: true; reservation: ReservationView }
  | {
      ok: false;
      reason: ReserveRefusal | "shard_retired" | "idempotency_key_reused";
      available: number;
      waiting_room?: string;
    };

/** `reserveOnAdd`: a reservation, none (the SKU does not reserve at add-to-cart), or a refusal. */
export type ReserveOnAddResult =
  | ReserveResult
  | { ok: true; reservation: null }
  | { ok: false; reason: "customer_required"; available: number; waiting_room?: undefined };

export type ResizeResult =
  | { ok: true; reservation: ReservationView }
  | {
      ok: false;
      reason: ReserveRefusal | "not_found" | "not_held";
      available: number;
      waiting_room?: string;
    };

export type ExtendResult =
  | { ok: true; reservation: ReservationView }
  | { ok: false; reason: "not_found" | "not_held" }
  | { ok: false; reason: AdmissionRefusal; waiting_room: string };
export type CurtailResult =
  | { ok: true; reservation: ReservationView }
  | { ok: false; reason: "not_found" | "not_held" };
export type ReassignResult =
  | { ok: true; reservation: ReservationView }
  | { ok: false; reason: "not_found" | "not_held" | "limit_exceeded" };
export type ReleaseResult = { ok: true } | { ok: false; reason: "not_found" | "already_committed" };
export type CommitResult =
  | { ok: true }
  | {
      ok: false;
      reason: "not_found" | "expired" | "released" | "committed_to_other_order" | "limit_exceeded";
    };
export type ReturnResult = { ok: true } | { ok: false; reason: "not_found" | "not_committed" };

export interface AdjustmentView {
  id: string;
  kind: "set" | "adjust" | "order_return";
  delta: number;
  reason: string;
  on_hand_after: number;
  created_at: string;
}

export type StockChangeResult =
  | { ok: true; adjustment: AdjustmentView; on_hand: number }
  | { ok: false; reason: "stock_below_committed"; on_hand: number; committed: number }
  | { ok: false; reason: "idempotency_key_reused" };

/** What the coordinator tells a shard on every exchange. */
export interface SyncReply {
  grantedTotal: number;
  returnedSeen: number;
  configVersion: number;
  active: boolean;
  shardCount: number;
  policy: SkuPolicy;
  exhausted: boolean;
}

/** What the coordinator pushes to a shard when the SKU is reconfigured. */
export interface ShardConfig {
  configVersion: number;
  active: boolean;
  shardCount: number;
  policy: SkuPolicy;
  grantedTotal: number;
}

/** One object's state as seen by `snapshot()`. */
export interface ObjectSnapshot extends StockCounters {
  sku: string;
  shard: number;
  active: boolean;
  granted_seen: number;
  returned_total: number;
  config_version: number;
  shard_count: number;
  policy: SkuPolicy;
  next_expiry: string | null;
  reservations: ReservationView[];
}

/** The coordinator's exact per-SKU view: totals are sums over shards plus units in transit. */
export interface SkuView extends StockCounters {
  sku: string;
  known: boolean;
  shard_count: number;
  in_transit: number;
  policy: SkuPolicy;
  shards: (StockCounters & { shard: number; active: boolean })[];
  reservations: ReservationView[];
  adjustments: AdjustmentView[];
}

/** One reservation as the invariant auditor sees it. */
export interface LedgerEntry {
  id: string;
  shard: number;
  holder: string;
  status: "held" | "committed";
  quantity: number;
  /** The checkout the units were sold to (`commit`'s order id), for committed entries. */
  order_id: string | null;
  created_at: number;
  updated_at: number;
}

/** A SKU's reservations that hold or sold units, across every shard, plus its counters. */
export interface SkuLedger extends StockCounters {
  sku: string;
  entries: LedgerEntry[];
  violations: string[];
}

export interface InvariantReport {
  ok: boolean;
  violations: string[];
}
