import type { AdjustmentView } from "../workers/inventory/rpc";
import type { ReservationStatus } from "../workers/inventory/types";

/**
 * SQLite schema of an inventory object, one list of statements per version; `_migrations`
 * records which ran. Append-only and expand-only (test/compat-migrations.test.ts checks both against
 * the previous release), so an object that slept through releases migrates forward on wake.
 */
export const INVENTORY_STORAGE_MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      sku TEXT NOT NULL DEFAULT '', shard INTEGER NOT NULL DEFAULT -1,
      on_hand INTEGER NOT NULL DEFAULT 0, reserved INTEGER NOT NULL DEFAULT 0, sold INTEGER NOT NULL DEFAULT 0,
      sku_on_hand INTEGER NOT NULL DEFAULT 0,
      granted_seen INTEGER NOT NULL DEFAULT 0, returned_total INTEGER NOT NULL DEFAULT 0,
      returned_acked INTEGER NOT NULL DEFAULT 0,
      config_version INTEGER NOT NULL DEFAULT 0, active INTEGER NOT NULL DEFAULT 1,
      shard_count INTEGER NOT NULL DEFAULT 1, shards_used INTEGER NOT NULL DEFAULT 1,
      policy TEXT NOT NULL DEFAULT '{}',
      version INTEGER NOT NULL DEFAULT 0, published_version INTEGER NOT NULL DEFAULT 0,
      published_at INTEGER NOT NULL DEFAULT 0)`,
    "INSERT INTO state (id) VALUES (1)",
    `CREATE TABLE reservations (
      id TEXT PRIMARY KEY, holder TEXT NOT NULL, customer TEXT, quantity INTEGER NOT NULL,
      status TEXT NOT NULL, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
      order_id TEXT, returned INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)`,
    "CREATE INDEX reservations_status_expiry ON reservations (status, expires_at)",
    "CREATE INDEX reservations_holder ON reservations (holder, status)",
    "CREATE INDEX reservations_customer ON reservations (customer, status)",
    `CREATE TABLE adjustments (
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, delta INTEGER NOT NULL, reason TEXT NOT NULL,
      on_hand_after INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
    "CREATE TABLE idempotency (key TEXT PRIMARY KEY, result TEXT NOT NULL, created_at INTEGER NOT NULL)",
    "CREATE INDEX idempotency_created ON idempotency (created_at)",
    `CREATE TABLE shard_links (
      shard INTEGER PRIMARY KEY, granted_total INTEGER NOT NULL DEFAULT 0,
      returned_seen INTEGER NOT NULL DEFAULT 0)`,
  ],
  ["ALTER TABLE state ADD COLUMN draining INTEGER NOT NULL DEFAULT 0"],
  ["ALTER TABLE idempotency ADD COLUMN fingerprint TEXT"],
];

export interface StateRow extends Record<string, SqlStorageValue> {
  sku: string;
  shard: number;
  on_hand: number;
  reserved: number;
  sold: number;
  sku_on_hand: number;
  granted_seen: number;
  returned_total: number;
  returned_acked: number;
  config_version: number;
  active: number;
  shard_count: number;
  shards_used: number;
  policy: string;
  /** Shard emptied by a steal: units it frees go straight back to the coordinator. */
  draining: number;
  version: number;
  published_version: number;
  published_at: number;
}

export interface ReservationRow extends Record<string, SqlStorageValue> {
  id: string;
  holder: string;
  customer: string | null;
  quantity: number;
  status: ReservationStatus;
  expires_at: number;
  created_at: number;
  order_id: string | null;
  returned: number;
}

export interface LinkRow extends Record<string, SqlStorageValue> {
  shard: number;
  granted_total: number;
  returned_seen: number;
}

export interface AdjustmentRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: AdjustmentView["kind"];
  delta: number;
  reason: string;
  on_hand_after: number;
  created_at: number;
}

export function adjustmentView(row: AdjustmentRow): AdjustmentView {
  return {
    id: row.id,
    kind: row.kind,
    delta: row.delta,
    reason: row.reason,
    on_hand_after: row.on_hand_after,
    created_at: new Date(row.created_at).toISOString(),
  };
}
