import { applyStorageMigrations } from "./storage-migrations";

/**
 * SQLite schema of a cart object, applied once per object in the constructor. Each entry is
 * a migration step (one or more statements); `migrateCartStorage` runs the ones not yet run. Append-only and expand-only
 * (test/compat-migrations.test.ts checks both against the previous release): an object that slept
 * through releases wakes up and runs every step it missed.
 */
export const CART_STORAGE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE cart (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     id TEXT NOT NULL,
     token_hash TEXT NOT NULL,
     currency TEXT NOT NULL,
     region TEXT NOT NULL,
     email TEXT,
     shipping_address TEXT,
     shipping_method TEXT,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE lines (
     id TEXT PRIMARY KEY,
     sku TEXT NOT NULL UNIQUE,
     quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
     acknowledged_price INTEGER NOT NULL,
     reservation_id TEXT,
     reservation_expires_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE promotion_codes (code TEXT PRIMARY KEY, added_at INTEGER NOT NULL);
   CREATE TABLE checkouts (
     id TEXT PRIMARY KEY,
     idempotency_key TEXT NOT NULL UNIQUE,
     status TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     reservations TEXT NOT NULL,
     promotion_ids TEXT NOT NULL,
     provider TEXT,
     payment_id TEXT,
     client_secret TEXT,
     next_action TEXT,
     order_id TEXT,
     failure TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE order_tokens (checkout_id TEXT PRIMARY KEY, token TEXT NOT NULL);`,
  "ALTER TABLE checkouts ADD COLUMN request_fingerprint TEXT",
  // Crash recovery: \`completion\` is the succeeded payment outcome, written before any stock is
  // committed, so the alarm can finish the order after a crash; \`reserved = 0\` marks a checkout
  // whose holds were being taken (rows written before this step had theirs recorded already).
  `ALTER TABLE checkouts ADD COLUMN completion TEXT;
   ALTER TABLE checkouts ADD COLUMN reserved INTEGER NOT NULL DEFAULT 1;`,
];

/**
 * Brings a cart's storage up to date through the shared runner (`_migrations`). Carts used to
 * count their steps in `cart_schema` alone: that count says which steps already ran, and it is
 * kept current, so the previous release's code (which reads only `cart_schema`) finds every
 * step done after a rollback instead of re-running the first.
 */
export function migrateCartStorage(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS cart_schema (version INTEGER NOT NULL)");
  const legacy = sql.exec<{ version: number }>("SELECT version FROM cart_schema").toArray()[0]?.version ?? 0;
  applyStorageMigrations(
    storage,
    CART_STORAGE_MIGRATIONS.map((step) => [step]),
    { appliedBefore: legacy },
  );
  if (legacy !== CART_STORAGE_MIGRATIONS.length) {
    sql.exec("DELETE FROM cart_schema");
    sql.exec("INSERT INTO cart_schema (version) VALUES (?)", CART_STORAGE_MIGRATIONS.length);
  }
}

export interface CartRow extends Record<string, SqlStorageValue> {
  id: string;
  token_hash: string;
  currency: string;
  region: string;
  email: string | null;
  shipping_address: string | null;
  shipping_method: string | null;
  status: "open" | "checking_out" | "completed";
  created_at: number;
  updated_at: number;
  expires_at: number;
}

export interface LineRow extends Record<string, SqlStorageValue> {
  id: string;
  sku: string;
  quantity: number;
  acknowledged_price: number;
  reservation_id: string | null;
  reservation_expires_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface CheckoutRow extends Record<string, SqlStorageValue> {
  id: string;
  idempotency_key: string;
  status: string;
  snapshot: string;
  reservations: string;
  promotion_ids: string;
  provider: string | null;
  payment_id: string | null;
  client_secret: string | null;
  next_action: string | null;
  order_id: string | null;
  failure: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  /** What the checkout's Idempotency-Key stands for: the cart it was started from (null before it was stored). */
  request_fingerprint: string | null;
  /** The succeeded payment outcome (JSON) once completion started; the order is owed while `order_id` is null. */
  completion: string | null;
  /** 0 while the checkout's holds are being taken (their ids not recorded yet), else 1. */
  reserved: number;
}
