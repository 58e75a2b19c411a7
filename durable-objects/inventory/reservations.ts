import { hold, sell, unhold, unsell } from "../../workers/inventory/counters";
import type {
  CommitResult,
  CurtailResult,
  ExtendResult,
  ReassignResult,
  ReleaseResult,
  ReserveInput,
  ReserveOnAddResult,
  ReserveResult,
  ResizeResult,
  ReturnResult,
} from "../../workers/inventory/rpc";
import type { ReservationView, ReserveRefusal, SkuPolicy } from "../../workers/inventory/types";
import { newId } from "../../workers/lib/ids";
import { type Admission, admissionRefusal } from "../../workers/waiting-room/admission";
import type { ReservationRow } from "../inventory-storage";
import type { InventoryStore } from "./store";

/** One try at an operation that may need units: it decides (`done`) or says how many it lacks. */
export type Attempt<R> = (final: boolean) => { done: R } | { need: number };

/**
 * Runs an attempt (synchronous: check and write with no await in between); when it needs units
 * it does not have, fetches them from the other objects of the SKU and tries again.
 */
export type WithStock = <R>(attempt: Attempt<R>) => Promise<R>;

/**
 * The buyer operations every inventory object serves on its own reservation ledger, whatever
 * its role (the coordinator when the SKU is not sharded, else shards 1..N): reserve, resize,
 * extend, curtail, reassign, release, commit and return, with the sale's refusals (window,
 * quantity, per-holder and per-customer limits, waiting-room admission).
 */
export class Reservations {
  constructor(
    private readonly store: InventoryStore,
    private readonly withStock: WithStock,
    /** Sends units a retired or draining shard freed to the coordinator (nothing elsewhere). */
    private readonly pushReturns: () => Promise<void>,
  ) {}

  /** Grants `quantity` units to `holder` or refuses with a reason; idempotent by `key`. */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const memoKey = `reserve:${input.key}`;
    const fingerprint = JSON.stringify([
      input.holder,
      input.customer ?? null,
      input.quantity,
      input.ttlSeconds ?? null,
    ]);
    if (this.store.keyReused(memoKey, fingerprint))
      return { ok: false, reason: "idempotency_key_reused", available: 0 };
    return this.withStock<ReserveResult>((final) => {
      const prior = this.store.recall<ReserveResult>(memoKey);
      if (prior) return { done: prior };
      const now = Date.now();
      this.store.sweep(now);
      if (this.store.retired()) return { done: { ok: false, reason: "shard_retired", available: 0 } };
      const policy = this.store.policy();
      // Not remembered under the key: a retry that brings a fresh admission must be able to pass.
      const unadmitted = this.admissionGate(policy, input.admission, now);
      if (unadmitted) return { done: unadmitted };
      const refusal =
        this.windowRefusal(policy, now) ??
        this.quantityRefusal(policy, input.quantity) ??
        this.limitRefusal(policy, input.holder, input.customer ?? null, input.quantity, null);
      if (refusal) return { done: this.store.remember(memoKey, this.store.refuse(refusal), fingerprint) };
      const available = this.store.available();
      if (available < input.quantity) {
        if (final)
          return { done: this.store.remember(memoKey, this.store.refuse("insufficient_stock"), fingerprint) };
        return { need: input.quantity - available };
      }
      const ttl = input.ttlSeconds ?? policy.reservation_ttl_seconds;
      const id = `${newId("res")}_${this.store.st.shard}`;
      const result = this.store.mutate((s) => {
        this.store.sql.exec(
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
        const reservation = this.store.view(this.store.row(id) as ReservationRow);
        const out: ReserveResult = { ok: true, reservation };
        this.store.memoize(memoKey, out, now, fingerprint);
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
  async reserveOnAdd(input: ReserveInput): Promise<ReserveOnAddResult> {
    if (this.store.retired()) return this.reserve(input);
    const policy = this.store.policy();
    if (!policy.reserve_on_add_to_cart) return { ok: true, reservation: null };
    // Holding first and asking who the customer is later would let email-less carts hold the sale.
    if (policy.per_customer_limit !== null && !input.customer) {
      return { ok: false, reason: "customer_required", available: 0 };
    }
    return this.reserve(input);
  }

  /** Changes a held reservation's quantity atomically (growing takes units, shrinking frees them). */
  async resize(input: { reservationId: string; quantity: number; key: string; admission?: Admission }) {
    const memoKey = `resize:${input.key}`;
    const result = await this.withStock<ResizeResult>((final) => {
      const prior = this.store.recall<ResizeResult>(memoKey);
      if (prior) return { done: prior };
      const now = Date.now();
      this.store.sweep(now);
      const row = this.store.row(input.reservationId);
      if (!row) return { done: { ok: false, reason: "not_found", available: this.store.available() } };
      if (row.status !== "held")
        return { done: { ok: false, reason: "not_held", available: this.store.available() } };
      const delta = input.quantity - row.quantity;
      const policy = this.store.policy();
      if (delta > 0) {
        const unadmitted = this.admissionGate(policy, input.admission, now);
        if (unadmitted) return { done: unadmitted };
        const refusal =
          this.windowRefusal(policy, now) ??
          this.quantityRefusal(policy, input.quantity) ??
          this.limitRefusal(policy, row.holder, row.customer, delta, row.id);
        if (refusal) return { done: this.store.remember(memoKey, this.store.refuse(refusal)) };
        const available = this.store.available();
        if (available < delta) {
          if (final || this.store.retired())
            return { done: this.store.remember(memoKey, this.store.refuse("insufficient_stock")) };
          return { need: delta - available };
        }
      }
      const result = this.store.mutate((s) => {
        this.store.sql.exec(
          "UPDATE reservations SET quantity = ?, updated_at = ? WHERE id = ?",
          input.quantity,
          now,
          row.id,
        );
        hold(s, delta);
        const out: ResizeResult = {
          ok: true,
          reservation: this.store.view(this.store.row(row.id) as ReservationRow),
        };
        this.store.memoize(memoKey, out, now);
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
  async extend(input: {
    reservationId: string;
    ttlSeconds?: number;
    admission?: Admission;
  }): Promise<ExtendResult> {
    const now = Date.now();
    const row = this.store.heldRow(input.reservationId, now);
    if (!("id" in row)) return row;
    const policy = this.store.policy();
    const ttl = input.ttlSeconds ?? policy.reservation_ttl_seconds;
    const granted = row.created_at + policy.reservation_ttl_seconds * 1000;
    const target = Math.max(row.expires_at, Math.min(now + ttl * 1000, granted + ttl * 1000));
    if (target > granted && target > row.expires_at && policy.waiting_room !== null) {
      const reason = admissionRefusal(policy.waiting_room, input.admission, now);
      if (reason) return { ok: false, reason, waiting_room: policy.waiting_room };
    }
    return this.store.mutate(() => {
      this.store.sql.exec(
        "UPDATE reservations SET expires_at = ?, updated_at = ? WHERE id = ?",
        target,
        now,
        row.id,
      );
      return { ok: true, reservation: this.store.view(this.store.row(row.id) as ReservationRow) };
    });
  }

  /**
   * Takes back what a checkout added to a hold's life: the deadline returns to the sale's TTL
   * from the first grant (a failed payment never renews a hold). Already past it: expired now.
   */
  async curtail(input: { reservationId: string }): Promise<CurtailResult> {
    const now = Date.now();
    const row = this.store.heldRow(input.reservationId, now);
    if (!("id" in row)) return row;
    const deadline = Math.min(
      row.expires_at,
      row.created_at + this.store.policy().reservation_ttl_seconds * 1000,
    );
    this.store.mutate(() => {
      this.store.sql.exec(
        "UPDATE reservations SET expires_at = ?, updated_at = ? WHERE id = ?",
        deadline,
        now,
        row.id,
      );
    });
    this.store.sweep(now);
    const after = this.store.row(row.id) as ReservationRow;
    if (after.status !== "held") {
      await this.pushReturns();
      return { ok: false, reason: "not_held" };
    }
    return { ok: true, reservation: this.store.view(after) };
  }

  /**
   * Hands a held reservation to `customer` (a cart's email was set or changed), checking the
   * sale's per-customer limit for them as if the units were reserved now.
   */
  async reassign(input: { reservationId: string; customer: string }): Promise<ReassignResult> {
    const now = Date.now();
    const row = this.store.heldRow(input.reservationId, now);
    if (!("id" in row)) return row;
    if (row.customer !== input.customer) {
      const refusal = this.limitRefusal(
        this.store.policy(),
        row.holder,
        input.customer,
        row.quantity,
        row.id,
      );
      if (refusal) return { ok: false, reason: "limit_exceeded" };
      this.store.mutate(() => {
        this.store.sql.exec(
          "UPDATE reservations SET customer = ?, updated_at = ? WHERE id = ?",
          input.customer,
          now,
          row.id,
        );
      });
    }
    return { ok: true, reservation: this.store.view(this.store.row(row.id) as ReservationRow) };
  }

  /** One reservation as the ledger holds it (a hold about to move between shards). */
  async reservation(input: {
    reservationId: string;
  }): Promise<(ReservationView & { customer: string | null }) | null> {
    this.store.sweep(Date.now());
    const row = this.store.row(input.reservationId);
    return row ? { ...this.store.view(row), customer: row.customer } : null;
  }

  /** Returns a held reservation's units to available. Releasing twice, or after expiry, is fine. */
  async release(input: { reservationId: string }): Promise<ReleaseResult> {
    const now = Date.now();
    this.store.sweep(now);
    const row = this.store.row(input.reservationId);
    if (!row) return { ok: false, reason: "not_found" };
    if (row.status === "committed") return { ok: false, reason: "already_committed" };
    if (row.status !== "held") return { ok: true };
    this.store.mutate((s) => {
      this.store.sql.exec(
        "UPDATE reservations SET status = 'released', updated_at = ? WHERE id = ?",
        now,
        row.id,
      );
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
  async commit(input: { reservationId: string; orderId: string; customer?: string }): Promise<CommitResult> {
    const now = Date.now();
    this.store.sweep(now);
    const row = this.store.row(input.reservationId);
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
      this.limitRefusal(this.store.policy(), row.holder, customer, row.quantity, row.id)
    ) {
      return { ok: false, reason: "limit_exceeded" };
    }
    return this.store.mutate((s) => {
      this.store.sql.exec(
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
  async returnCommitted(input: {
    reservationId: string;
    reason: string;
    key: string;
  }): Promise<ReturnResult> {
    const memoKey = `return:${input.key}`;
    const prior = this.store.recall<ReturnResult>(memoKey);
    if (prior) return prior;
    const now = Date.now();
    this.store.sweep(now);
    const row = this.store.row(input.reservationId);
    if (!row) return { ok: false, reason: "not_found" };
    if (row.returned) return { ok: true };
    if (row.status !== "committed") return { ok: false, reason: "not_committed" };
    const result = this.store.mutate((s) => {
      this.store.sql.exec(
        "UPDATE reservations SET status = 'released', returned = 1, updated_at = ? WHERE id = ?",
        now,
        row.id,
      );
      unsell(s, row.quantity);
      this.store.audit(
        "order_return",
        0,
        `${input.reason} (${row.id}, ${row.quantity} units)`,
        s.on_hand,
        now,
      );
      const out: ReturnResult = { ok: true };
      this.store.memoize(memoKey, out, now);
      return out;
    });
    await this.pushReturns();
    return result;
  }

  /** Growing a sale behind a waiting room takes an unexpired admission to that room. */
  private admissionGate(policy: SkuPolicy, admission: Admission | undefined, now: number) {
    const reason = admissionRefusal(policy.waiting_room, admission, now);
    if (!reason || policy.waiting_room === null) return null;
    return { ...this.store.refuse(reason), waiting_room: policy.waiting_room };
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
      this.store.sql
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
}
