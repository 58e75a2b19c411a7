import type { CartRow, CheckoutRow, LineRow } from "../../durable-objects/cart-storage";

/** A checkout row as first written: everything else starts empty (see `CheckoutStore.insertCheckout`). */
export type NewCheckout = Pick<
  CheckoutRow,
  | "id"
  | "idempotency_key"
  | "snapshot"
  | "promotion_ids"
  | "created_at"
  | "expires_at"
  | "request_fingerprint"
>;

/** Columns of a checkout row the saga changes after writing it. */
export type CheckoutPatch = Partial<Omit<CheckoutRow, "id" | "idempotency_key" | "snapshot" | "created_at">>;

/**
 * Which checkouts of the cart: `active` still awaits its payment (or its holds), `completing`
 * was paid and still owes its order, `holding` is either (its holds are in use), `completed`
 * became the cart's order.
 */
export type CheckoutSet = "active" | "completing" | "holding" | "completed";

/**
 * What the checkout saga needs from the cart object, its single writer: the cart's rows, its
 * checkout rows, its alarm and a storage flush, and the object's bindings. The cart object
 * provides it (`durable-objects/cart-store.ts`) and calls the saga only inside its `exclusive`
 * sections, so every read-then-write below is one writer's, never interleaved with another.
 * Writes are synchronous (SQLite in the object); only the alarm and `sync` wait.
 */
export interface CheckoutStore {
  /** The object's bindings, read at each use (tests swap them on a running object). */
  readonly env: Env;

  cart(): CartRow | null;
  requireCart(): CartRow;
  /** The cart's lines, in the order they were added. */
  lines(): LineRow[];
  promotionCodes(): string[];
  /** Sets the cart's status at `at`; with `from`, only while the cart has that status. */
  setCartStatus(status: CartRow["status"], at: number, from?: CartRow["status"]): void;
  /** Changes a line's hold (the columns given, nothing else). */
  setLineHold(
    lineId: string,
    hold: Partial<Pick<LineRow, "reservation_id" | "reservation_expires_at">>,
  ): void;

  checkout(id: string): CheckoutRow | null;
  requireCheckout(id: string): CheckoutRow;
  checkoutByKey(idempotencyKey: string): CheckoutRow | null;
  checkouts(which: CheckoutSet): CheckoutRow[];
  /** Writes a `pending` checkout with no holds recorded yet (`reserved = 0`). */
  insertCheckout(row: NewCheckout): void;
  /** Changes the columns given; `updated_at` is now unless given. */
  updateCheckout(id: string, patch: CheckoutPatch): void;
  deleteCheckout(id: string): void;
  /** The guest lookup token stored for a checkout's order, if one was chosen. */
  orderToken(checkoutId: string): string | null;
  saveOrderToken(checkoutId: string, token: string): void;

  /** The cart was used now: pushes its idle expiry back and re-arms the alarm. */
  touch(options?: { force?: boolean }): Promise<void>;
  /**
   * Makes the alarm fire no later than the next deadline (a payment window's end, an owed
   * completion's retry, the idle expiry); an alarm already due sooner stays, unless `force`.
   */
  scheduleAlarm(options?: { force?: boolean }): Promise<void>;
  setAlarm(at: number): Promise<void>;
  /** Waits until every write so far is durable. */
  sync(): Promise<void>;
}
