import type { AdmissionRefusal } from "../waiting-room/admission";

/**
 * Why a reservation was refused; each maps to a stable problem `code` with the same name.
 * The admission refusals come from the sale's waiting room (workers/waiting-room/admission.ts).
 */
export type ReserveRefusal =
  | "insufficient_stock"
  | "sale_not_started"
  | "sale_ended"
  | "limit_exceeded"
  | "quantity_too_large"
  | AdmissionRefusal;

export type ReservationStatus = "held" | "committed" | "released" | "expired";

/** A reservation as other domains see it. */
export interface ReservationView {
  id: string;
  sku: string;
  holder: string;
  quantity: number;
  status: ReservationStatus;
  /** ISO 8601; a held reservation stops counting at exactly this instant. */
  expires_at: string;
  created_at: string;
}

/** Per-SKU flash-sale controls (the cart domain honours `reserve_on_add_to_cart`). */
export interface SkuPolicy {
  reserve_on_add_to_cart: boolean;
  reservation_ttl_seconds: number;
  max_per_reservation: number | null;
  per_holder_limit: number | null;
  per_customer_limit: number | null;
  sale_starts_at: string | null;
  sale_ends_at: string | null;
  /** A waiting room whose admission is required to reserve new units (null: none). */
  waiting_room: string | null;
}

export const DEFAULT_POLICY: SkuPolicy = {
  reserve_on_add_to_cart: false,
  reservation_ttl_seconds: 600,
  max_per_reservation: null,
  per_holder_limit: null,
  per_customer_limit: null,
  sale_starts_at: null,
  sale_ends_at: null,
  waiting_room: null,
};

/** Bounds shared by the object and the HTTP schemas. */
export const LIMITS = {
  maxShards: 64,
  minTtlSeconds: 1,
  maxTtlSeconds: 7 * 24 * 3600,
  maxQuantity: 1_000_000,
  maxOnHand: 1_000_000_000,
} as const;

/** One object's counters: `available + reserved + sold = on_hand` always holds. */
export interface StockCounters {
  on_hand: number;
  available: number;
  reserved: number;
  sold: number;
}

/** Where a SKU's objects live: `sku:<SKU>` is the coordinator and shard 0, `sku:<SKU>#<n>` shard n. */
export interface ShardAddress {
  sku: string;
  shard: number;
}

export const objectName = ({ sku, shard }: ShardAddress): string =>
  shard === 0 ? `sku:${sku}` : `sku:${sku}#${shard}`;

/** SKU codes exclude `:` and `#` so object names stay unambiguous. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
