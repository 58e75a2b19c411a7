import { COMPLETION_RETRY_MS } from "../workers/checkout/deadlines";
import type { CheckoutPatch, CheckoutSet, CheckoutStore, NewCheckout } from "../workers/checkout/store";
import { type CartRow, type CheckoutRow, type LineRow, migrateCartStorage } from "./cart-storage";

/** A cart nobody touched for this long is deleted (and its reservations released). */
export const CART_IDLE_TTL_MS = 3 * 24 * 60 * 60 * 1000;

const ACTIVE_CHECKOUT = "status IN ('pending', 'awaiting_payment', 'requires_action')";
/** Pending completions: the payment succeeded and was recorded, the order is not written yet. */
const COMPLETING = "completion IS NOT NULL AND order_id IS NULL";
const CHECKOUTS: Record<CheckoutSet, string> = {
  active: ACTIVE_CHECKOUT,
  completing: COMPLETING,
  holding: `${ACTIVE_CHECKOUT} OR (${COMPLETING})`,
  completed: "status = 'completed'",
};

/** `col = ?, …` and its values for an UPDATE; column names come from typed patches, never input. */
function assignments(patch: Record<string, SqlStorageValue | undefined>): [string, SqlStorageValue[]] {
  const entries = Object.entries(patch).filter(
    (entry): entry is [string, SqlStorageValue] => entry[1] !== undefined,
  );
  for (const [column] of entries) if (!/^[a-z_]+$/.test(column)) throw new Error(`bad column ${column}`);
  return [entries.map(([column]) => `${column} = ?`).join(", "), entries.map(([, value]) => value)];
}

/**
 * The cart object's rows, read and written: the one place its SQL lives. The object uses it for
 * its lines, and hands it to the checkout saga as its `CheckoutStore`. Only ever called from
 * inside the object's `exclusive` sections.
 */
export class CartStore implements CheckoutStore {
  readonly #storage: DurableObjectStorage;
  readonly #env: () => Env;
  #migrated = false;

  constructor(storage: DurableObjectStorage, env: () => Env) {
    this.#storage = storage;
    this.#env = env;
  }

  /**
   * The cart's SQL, its schema brought up to date on first use. For a new cart that is its
   * first write, so its tables are created in the same implicit transaction as its first rows:
   * one storage commit instead of two. Every query passes here and migrating is synchronous,
   * so nothing can see the storage half-migrated.
   */
  get #sql(): SqlStorage {
    this.#migrate();
    return this.#storage.sql;
  }

  #migrate(): void {
    if (this.#migrated) return;
    migrateCartStorage(this.#storage);
    this.#migrated = true;
  }

  /** Whether this object holds a cart's storage at all (not for an id nobody created). */
  #stored(): boolean {
    if (this.#migrated) return true;
    return (
      this.#storage.sql
        .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cart_schema'")
        .toArray().length > 0
    );
  }

  /**
   * Migrates an existing cart's storage now, so a cart that slept through releases wakes on the
   * current schema; a new cart's storage is left for its first write (see `#sql`).
   */
  migrateIfStored(): void {
    if (this.#stored()) this.#migrate();
  }

  /** Deletes every row and table (an expired cart); the schema is made again on next use. */
  async deleteAll(): Promise<void> {
    await this.#storage.deleteAll();
    this.#migrated = false;
  }

  get env(): Env {
    return this.#env();
  }

  cart(): CartRow | null {
    // An id nobody created has no cart: answered without creating its tables, so probing cart
    // ids (or a webhook naming a foreign cart) writes nothing.
    if (!this.#stored()) return null;
    return this.#sql.exec<CartRow>("SELECT * FROM cart").toArray()[0] ?? null;
  }

  requireCart(): CartRow {
    const cart = this.cart();
    if (!cart) throw new Error("cart state missing");
    return cart;
  }

  insertCart(cart: Omit<CartRow, "status" | "updated_at">): void {
    this.#sql.exec(
      `INSERT INTO cart (singleton, id, token_hash, currency, region, email, shipping_address, shipping_method,
         status, created_at, updated_at, expires_at)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
      cart.id,
      cart.token_hash,
      cart.currency,
      cart.region,
      cart.email,
      cart.shipping_address,
      cart.shipping_method,
      cart.created_at,
      cart.created_at,
      cart.expires_at,
    );
  }

  updateCart(
    patch: Partial<Pick<CartRow, "email" | "shipping_address" | "region" | "shipping_method">>,
  ): void {
    const [set, values] = assignments(patch);
    this.#sql.exec(`UPDATE cart SET ${set}`, ...values);
  }

  setCartStatus(status: CartRow["status"], at: number, from?: CartRow["status"]): void {
    if (from) {
      this.#sql.exec("UPDATE cart SET status = ?, updated_at = ? WHERE status = ?", status, at, from);
    } else {
      this.#sql.exec("UPDATE cart SET status = ?, updated_at = ?", status, at);
    }
  }

  lines(): LineRow[] {
    // rowid breaks ties in insertion order: a whole cart's lines share one created_at and
    // must keep the order they were asked for in (line ids are random).
    return this.#sql.exec<LineRow>("SELECT * FROM lines ORDER BY created_at, rowid").toArray();
  }

  lineById(id: string): LineRow | null {
    return this.#sql.exec<LineRow>("SELECT * FROM lines WHERE id = ?", id).toArray()[0] ?? null;
  }

  lineBySku(sku: string): LineRow | null {
    return this.#sql.exec<LineRow>("SELECT * FROM lines WHERE sku = ?", sku).toArray()[0] ?? null;
  }

  lineCount(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM lines").one().n;
  }

  insertLine(line: Omit<LineRow, "updated_at">): void {
    this.#sql.exec(
      `INSERT INTO lines (id, sku, quantity, acknowledged_price, reservation_id, reservation_expires_at,
         created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      line.id,
      line.sku,
      line.quantity,
      line.acknowledged_price,
      line.reservation_id,
      line.reservation_expires_at,
      line.created_at,
      line.created_at,
    );
  }

  updateLine(lineId: string, patch: Partial<Omit<LineRow, "id" | "sku" | "created_at">>): void {
    const [set, values] = assignments(patch);
    this.#sql.exec(`UPDATE lines SET ${set} WHERE id = ?`, ...values, lineId);
  }

  setLineHold(
    lineId: string,
    hold: Partial<Pick<LineRow, "reservation_id" | "reservation_expires_at">>,
  ): void {
    this.updateLine(lineId, hold);
  }

  deleteLine(lineId: string): void {
    this.#sql.exec("DELETE FROM lines WHERE id = ?", lineId);
  }

  promotionCodes(): string[] {
    return this.#sql
      .exec<{ code: string }>("SELECT code FROM promotion_codes ORDER BY added_at, code")
      .toArray()
      .map((row) => row.code);
  }

  addPromotionCode(code: string, at: number): void {
    this.#sql.exec("INSERT OR IGNORE INTO promotion_codes (code, added_at) VALUES (?, ?)", code, at);
  }

  /** Whether the code was on the cart. */
  removePromotionCode(code: string): boolean {
    return this.#sql.exec("DELETE FROM promotion_codes WHERE code = ?", code).rowsWritten > 0;
  }

  checkout(id: string): CheckoutRow | null {
    return this.#sql.exec<CheckoutRow>("SELECT * FROM checkouts WHERE id = ?", id).toArray()[0] ?? null;
  }

  requireCheckout(id: string): CheckoutRow {
    const row = this.checkout(id);
    if (!row) throw new Error(`checkout ${id} missing`);
    return row;
  }

  checkoutByKey(idempotencyKey: string): CheckoutRow | null {
    return (
      this.#sql
        .exec<CheckoutRow>("SELECT * FROM checkouts WHERE idempotency_key = ?", idempotencyKey)
        .toArray()[0] ?? null
    );
  }

  checkouts(which: CheckoutSet): CheckoutRow[] {
    return this.#sql.exec<CheckoutRow>(`SELECT * FROM checkouts WHERE ${CHECKOUTS[which]}`).toArray();
  }

  insertCheckout(row: NewCheckout): void {
    this.#sql.exec(
      `INSERT INTO checkouts (id, idempotency_key, status, snapshot, reservations, promotion_ids, reserved,
         created_at, updated_at, expires_at, request_fingerprint)
       VALUES (?, ?, 'pending', ?, '[]', ?, 0, ?, ?, ?, ?)`,
      row.id,
      row.idempotency_key,
      row.snapshot,
      row.promotion_ids,
      row.created_at,
      row.created_at,
      row.expires_at,
      row.request_fingerprint,
    );
  }

  updateCheckout(id: string, patch: CheckoutPatch): void {
    const [set, values] = assignments({ ...patch, updated_at: patch.updated_at ?? Date.now() });
    this.#sql.exec(`UPDATE checkouts SET ${set} WHERE id = ?`, ...values, id);
  }

  deleteCheckout(id: string): void {
    this.#sql.exec("DELETE FROM checkouts WHERE id = ?", id);
  }

  orderToken(checkoutId: string): string | null {
    return (
      this.#sql
        .exec<{ token: string }>("SELECT token FROM order_tokens WHERE checkout_id = ?", checkoutId)
        .toArray()[0]?.token ?? null
    );
  }

  saveOrderToken(checkoutId: string, token: string): void {
    this.#sql.exec("INSERT INTO order_tokens (checkout_id, token) VALUES (?, ?)", checkoutId, token);
  }

  async touch(options: { force?: boolean } = {}): Promise<void> {
    const now = Date.now();
    this.#sql.exec("UPDATE cart SET updated_at = ?, expires_at = ?", now, now + CART_IDLE_TTL_MS);
    await this.scheduleAlarm(options);
  }

  /**
   * Makes the alarm fire no later than the next deadline: a payment window's end, an owed
   * completion's retry, the idle expiry. An alarm already due sooner is left where it is: firing
   * early is harmless (the handler settles only what is due, then re-arms with `force`), and a
   * request that only pushes a deadline later (every touch moves the idle expiry by days; a
   * started payment turns the resume window into the payment window) then costs no alarm write.
   * `force` sets it exactly: the alarm handler must (the runtime deletes an alarm whose handler
   * set none), and a completed checkout does rather than wake its cart 5 s later for nothing.
   */
  async scheduleAlarm(options: { force?: boolean } = {}): Promise<void> {
    if (!this.#stored()) return;
    // One statement: this runs on most requests that change the cart.
    const deadlines = this.#sql
      .exec<{ expires_at: number; checkout_at: number | null; completing: number }>(
        `SELECT expires_at,
           (SELECT min(expires_at) FROM checkouts WHERE ${ACTIVE_CHECKOUT}) AS checkout_at,
           EXISTS (SELECT 1 FROM checkouts WHERE ${COMPLETING}) AS completing
         FROM cart`,
      )
      .toArray()[0];
    if (!deadlines) return;
    const at = Math.min(
      deadlines.checkout_at ?? deadlines.expires_at,
      deadlines.expires_at,
      deadlines.completing ? Date.now() + COMPLETION_RETRY_MS : Number.POSITIVE_INFINITY,
    );
    if (!options.force) {
      const current = await this.#storage.getAlarm();
      if (current !== null && current <= at) return;
    }
    await this.#storage.setAlarm(at);
  }

  setAlarm(at: number): Promise<void> {
    return this.#storage.setAlarm(at);
  }

  sync(): Promise<void> {
    return this.#storage.sync();
  }
}
