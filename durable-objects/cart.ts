import { DurableObject } from "cloudflare:workers";
import { type CartPricing, initialRegion, shippingOptionIn } from "../workers/cart/cart-pricing";
import {
  lineRefusal,
  MAX_LINE_SUBTOTAL,
  regionForAddress,
  unknownShippingMethod,
} from "../workers/cart/cart-rules";
import { cartView, priceCart } from "../workers/cart/cart-view";
import { type CatalogItem, loadCatalogItems } from "../workers/cart/catalog-prices";
import { holdLineStock, rehomeLineStock, releaseLineStock } from "../workers/cart/line-stock";
import { type CartRefusal, refuse, shippingRefusal, stockRefusal } from "../workers/cart/refusals";
import { taxLines } from "../workers/cart/region-view";
import { type Address, type CartView, MAX_PROMOTION_CODES } from "../workers/cart/schemas";
import { ProviderPollThrottle } from "../workers/checkout/poll-throttle";
import {
  commitCheckoutReservations,
  curtailLineHolds,
  releaseCheckoutReservations,
  releaseUnrecordedHolds,
  reserveCheckoutLines,
  returnCheckoutReservations,
} from "../workers/checkout/reservations";
import type { CheckoutStatus, CheckoutView } from "../workers/checkout/schemas";
import {
  type CheckoutReservation,
  type CheckoutSnapshot,
  orderDraftFrom,
  snapshotCart,
  snapshotTaxParts,
} from "../workers/checkout/snapshot";
import { customerIdentity, identityOf } from "../workers/customers/identity";
import { sameDigest, sha256Hex } from "../workers/lib/crypto";
import { DatabaseUnavailableError, databaseDown, databaseOutage } from "../workers/lib/d1-guard";
import { newId, newSecret } from "../workers/lib/ids";
import { describeError, log } from "../workers/lib/logging";
import type { Currency } from "../workers/lib/money";
import { resilientEnv } from "../workers/lib/resilient-env";
import { refundOrder } from "../workers/orders/refunds";
import { placeOrder } from "../workers/orders/service";
import {
  isProviderUnavailable,
  type PaymentOutcome,
  PaymentProviderError,
  type PaymentSession,
  paymentIdempotencyKey,
  paymentProviderFor,
} from "../workers/payments/provider";
import { evaluatePromotion } from "../workers/promotions/rules";
import {
  customerUses,
  holdPromotionUses,
  loadPromotionRules,
  redeemPromotionUses,
  releasePromotionUses,
} from "../workers/promotions/service";
import { type Admission, NO_ADMISSION } from "../workers/waiting-room/admission";
import { type CartRow, type CheckoutRow, type LineRow, migrateCartStorage } from "./cart-storage";

/** A cart nobody touched for this long is deleted (and its reservations released). */
export const CART_IDLE_TTL_MS = 3 * 24 * 60 * 60 * 1000;

export { MAX_LINE_SUBTOTAL } from "../workers/cart/cart-rules";

export type CartResult = { ok: true; cart: CartView } | CartRefusal;

/** What a new cart starts with (see `CartObject.create`). */
export interface CartInit {
  id: string;
  tokenHash: string;
  currency: Currency;
  email?: string;
  shippingAddress?: Address;
  /** The region `shippingAddress` ships from, chosen by the caller; absent: the currency's default. */
  regionCode?: string;
  /** Validated against the cart's region and destination by the caller. */
  shippingMethod?: string;
  /** Validated lines (one per SKU) with the stock already held for this cart, if the SKU holds at add-to-cart. */
  lines?: {
    sku: string;
    quantity: number;
    unitPrice: number;
    reservation: { id: string; expires_at: string } | null;
  }[];
  /** The catalog as read for `lines`: the first render prices from it instead of reading D1 again. */
  catalog?: Map<string, CatalogItem>;
}
export type CheckoutResult = { ok: true; checkout: CheckoutView; created: boolean } | CartRefusal;
/** What `reconcile` left behind: the checkout's status and whether it needs nothing more. */
export type ReconcileResult = { ok: true; status: CheckoutStatus; settled: boolean } | CartRefusal;

/** How long a shopper has to pay once a checkout starts. */
export const PAYMENT_WINDOW_MS = 15 * 60 * 1000;
/**
 * Reservations outlive the payment window by this much, so the window's alarm can still
 * cancel the payment and release the stock itself before the holds lapse on their own.
 */
export const RESERVATION_GRACE_SECONDS = 5 * 60;
/**
 * A checkout whose payment could not be started (provider or D1 unavailable) keeps its holds
 * this long for a retry with the same Idempotency-Key; then its alarm gives them back. Well
 * under the grace above, so a resumed checkout's holds still outlive its payment window.
 */
export const PAYMENT_RESUME_WINDOW_MS = 2 * 60 * 1000;
/**
 * How long a checkout's own holds last. The holds are keyed by checkout and SKU with this TTL as
 * part of their request, so a retried or crash-cleaning call must ask with the same value.
 */
export const CHECKOUT_HOLD_TTL_SECONDS = PAYMENT_WINDOW_MS / 1000 + RESERVATION_GRACE_SECONDS;
/** How often a payment still processing at the end of its window is asked about again. */
export const PROCESSING_RECHECK_MS = 10 * 60 * 1000;
/** When the payment provider or D1 is down at the end of a payment window, try again this much later. */
const EXPIRY_RETRY_MS = 30 * 1000;
/**
 * A completion (payment succeeded, order owed) arms the alarm this far ahead before it commits
 * anything: if the run dies midway, the alarm finishes it. A completion that ends normally
 * moves the alarm back to the cart's own deadline.
 */
export const COMPLETION_RETRY_MS = 5 * 1000;
/** Pending completions: the payment succeeded and was recorded, the order is not written yet. */
const COMPLETING = "completion IS NOT NULL AND order_id IS NULL";
const TERMINAL_STATUSES: readonly string[] = ["completed", "failed", "expired"];

const ACTIVE_CHECKOUT = "status IN ('pending', 'awaiting_payment', 'requires_action')";

type StoredStatus = "pending" | CheckoutStatus;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One object per cart: the single writer for its lines, promotions, addresses and checkouts.
 * Every mutation runs through `exclusive`, so a mutation that awaits D1, an inventory shard or
 * the payment provider finishes before the next one starts: an update racing an add, or two
 * checkouts of the same cart, are applied one after the other, never interleaved.
 */
export class CartObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private tail: Promise<unknown> = Promise.resolve();
  /** Shopper status polls ask the provider at most once per interval per checkout. */
  private readonly providerPolls = new ProviderPollThrottle();

  constructor(ctx: DurableObjectState, env: Env) {
    // D1 calls get a deadline and the isolate's circuit breaker, as in the edge worker.
    super(ctx, resilientEnv(env));
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => migrateCartStorage(ctx.storage));
  }

  /**
   * Initialises a new cart. The id and token hash come from the caller (the token never
   * reaches us). A whole cart arrives validated, its lines' stock already held for this cart
   * id (workers/cart/service.ts `createCart`), and is written in one step: either all of it
   * exists or nothing does.
   */
  async create(init: CartInit): Promise<CartView> {
    return this.exclusive(async () => {
      if (this.cartRow()) throw new Error(`cart ${init.id} already exists`);
      const now = Date.now();
      // No region selling in the currency yet: the cart still exists, it just cannot ship.
      const region = init.regionCode
        ? { code: init.regionCode }
        : await initialRegion(this.env, init.currency);
      this.sql.exec(
        `INSERT INTO cart (singleton, id, token_hash, currency, region, email, shipping_address, shipping_method,
           status, created_at, updated_at, expires_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
        init.id,
        init.tokenHash,
        init.currency,
        region?.code ?? "",
        init.email ?? null,
        init.shippingAddress ? JSON.stringify(init.shippingAddress) : null,
        init.shippingMethod ?? null,
        now,
        now,
        now + CART_IDLE_TTL_MS,
      );
      for (const line of init.lines ?? []) {
        this.sql.exec(
          `INSERT INTO lines (id, sku, quantity, acknowledged_price, reservation_id, reservation_expires_at,
             created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          newId("line"),
          line.sku,
          line.quantity,
          line.unitPrice,
          line.reservation?.id ?? null,
          line.reservation ? Date.parse(line.reservation.expires_at) : null,
          now,
          now,
        );
      }
      await this.scheduleAlarm();
      return this.render(this.requireCart(), init.catalog);
    });
  }

  async view(tokenHash: string): Promise<CartResult> {
    const cart = this.authorize(tokenHash);
    if (!cart) return refuse("cart_not_found");
    return this.unlessDatabaseDown(async () => ({ ok: true, cart: await this.render(cart) }));
  }

  /** Adds units of a SKU; `admission` is the request's waiting-room admissions (flash sales). */
  async addLine(
    tokenHash: string,
    input: { sku: string; quantity: number },
    admission: Admission = NO_ADMISSION,
  ): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      const catalog = await loadCatalogItems(this.env, [input.sku], cart.currency as Currency);
      const item = catalog.get(input.sku);
      const existing = this.lineBySku(input.sku);
      const quantity = (existing?.quantity ?? 0) + input.quantity;
      const invalid = lineRefusal(input.sku, item, cart.currency as Currency, quantity, {
        isNewLine: !existing,
        lineCount: this.lineCount(),
      });
      const unitPrice = item?.unitPrice ?? null;
      if (invalid || unitPrice === null) return invalid ?? refuse("sku_unavailable");
      const hold = await holdLineStock(
        this.env,
        {
          cartId: cart.id,
          sku: input.sku,
          quantity,
          customer: identityOf(cart.email),
          reservationId: existing?.reservation_id ?? null,
        },
        admission,
      );
      if (!hold.ok) return stockRefusal(hold, { sku: input.sku });
      const reservationId = hold.reservation?.id ?? null;
      const reservationExpiresAt = hold.reservation ? Date.parse(hold.reservation.expires_at) : null;
      const now = Date.now();
      if (existing) {
        this.sql.exec(
          `UPDATE lines SET quantity = ?, acknowledged_price = ?, reservation_id = ?, reservation_expires_at = ?,
             updated_at = ? WHERE id = ?`,
          quantity,
          unitPrice,
          reservationId,
          reservationExpiresAt,
          now,
          existing.id,
        );
      } else {
        this.sql.exec(
          `INSERT INTO lines (id, sku, quantity, acknowledged_price, reservation_id, reservation_expires_at,
             created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          newId("line"),
          input.sku,
          quantity,
          unitPrice,
          reservationId,
          reservationExpiresAt,
          now,
          now,
        );
      }
      return null;
    });
  }

  /** Sets a line's quantity (0 removes it) and acknowledges its current price. */
  async updateLine(
    tokenHash: string,
    lineId: string,
    quantity: number,
    admission: Admission = NO_ADMISSION,
  ): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      const line = this.lineById(lineId);
      if (!line) return refuse("line_not_found");
      if (quantity === 0) {
        await this.deleteLine(line);
        return null;
      }
      const item = (await loadCatalogItems(this.env, [line.sku], cart.currency as Currency)).get(line.sku);
      const price = item?.purchasable && item.unitPrice !== null ? item.unitPrice : line.acknowledged_price;
      if (price * quantity > MAX_LINE_SUBTOTAL) {
        return refuse("line_total_too_large", "This line exceeds the largest amount a cart accepts.");
      }
      const hold = await holdLineStock(
        this.env,
        {
          cartId: cart.id,
          sku: line.sku,
          quantity,
          customer: identityOf(cart.email),
          reservationId: line.reservation_id,
        },
        admission,
      );
      if (!hold.ok) return stockRefusal(hold, { sku: line.sku, line_id: line.id });
      this.sql.exec(
        `UPDATE lines SET quantity = ?, acknowledged_price = ?, reservation_id = ?, reservation_expires_at = ?,
           updated_at = ? WHERE id = ?`,
        quantity,
        price,
        hold.reservation?.id ?? null,
        hold.reservation ? Date.parse(hold.reservation.expires_at) : null,
        Date.now(),
        line.id,
      );
      return null;
    });
  }

  async removeLine(tokenHash: string, lineId: string): Promise<CartResult> {
    return this.mutate(tokenHash, async () => {
      const line = this.lineById(lineId);
      if (!line) return refuse("line_not_found");
      await this.deleteLine(line);
      return null;
    });
  }

  /**
   * Sets the customer's email. Held stock counts against the customer's purchase limits, so a
   * new identity takes over every line hold first: over that customer's limit, the change is
   * refused and the holds stay with the old one.
   */
  async setEmail(tokenHash: string, email: string): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      const customer = customerIdentity(email);
      if (identityOf(cart.email) !== customer) {
        for (const line of this.lines()) {
          const moved = await rehomeLineStock(this.env, {
            sku: line.sku,
            reservationId: line.reservation_id,
            customer,
          });
          if (moved.ok) continue;
          return moved.reason === "limit_exceeded"
            ? refuse(
                "purchase_limit_exceeded",
                `${line.sku} is limited per customer and ${email} has reached that limit.`,
                { sku: line.sku, line_id: line.id },
              )
            : refuse("sold_out", `${line.sku} could not be moved to ${email}.`, {
                sku: line.sku,
                line_id: line.id,
              });
        }
      }
      this.sql.exec("UPDATE cart SET email = ?", email);
      return null;
    });
  }

  async setShippingAddress(tokenHash: string, address: Address): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      // The shipping country decides the region (and with it tax and shipping options).
      const target = await regionForAddress(this.env, cart.currency as Currency, address);
      if (!target.ok) return target;
      // A chosen method the new destination does not get is dropped; the cart offers the ones it does.
      let method = cart.shipping_method;
      if (method) {
        const option = await shippingOptionIn(this.env, target.region.code, method);
        if (!option || (option.countries !== null && !option.countries.includes(address.country)))
          method = null;
      }
      this.sql.exec(
        "UPDATE cart SET shipping_address = ?, region = ?, shipping_method = ?",
        JSON.stringify(address),
        target.region.code,
        method,
      );
      return null;
    });
  }

  async setShippingMethod(tokenHash: string, methodId: string): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      const chosen = { ...cart, shipping_method: methodId };
      const pricing = await this.price(chosen);
      let quote = pricing.selected;
      // An option this isolate's snapshot does not know may be brand new: ask D1 before refusing.
      if (!quote && pricing.region && (await shippingOptionIn(this.env, pricing.region.code, methodId))) {
        quote = (await this.price(chosen)).selected;
      }
      if (!quote) {
        return unknownShippingMethod(methodId);
      }
      if (!quote.ok) return shippingRefusal(quote.reason, methodId, cart);
      this.sql.exec("UPDATE cart SET shipping_method = ?", methodId);
      return null;
    });
  }

  /**
   * Attaches a code. Codes that can never apply to this cart are refused; a code that only
   * misses its minimum subtotal stays attached and starts applying once the cart qualifies.
   */
  async addPromotion(tokenHash: string, code: string): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      if (this.promotionCodes().includes(code)) return null;
      if (this.promotionCodes().length >= MAX_PROMOTION_CODES) {
        return refuse("too_many_promotions", `At most ${MAX_PROMOTION_CODES} codes per cart.`);
      }
      const rule = (await loadPromotionRules(this.env, [code])).get(code);
      if (!rule)
        return refuse("promotion_invalid", `${code} is not a valid code.`, {
          promotion_code: code,
          why: "unknown_code",
        });
      const evaluation = evaluatePromotion(rule, {
        subtotal: rule.minimumSubtotal ?? 0,
        currency: cart.currency as Currency,
        now: Date.now(),
      });
      if (!evaluation.applies) {
        return refuse("promotion_invalid", `${code} cannot be used: ${evaluation.reason}.`, {
          promotion_code: code,
          why: evaluation.reason,
        });
      }
      if (cart.email && rule.perCustomerLimit !== null) {
        if ((await customerUses(this.env, rule.id, cart.email)) >= rule.perCustomerLimit) {
          return refuse("promotion_invalid", `${code} has already been used by this customer.`, {
            promotion_code: code,
            why: "customer_limit_reached",
          });
        }
      }
      this.sql.exec("INSERT OR IGNORE INTO promotion_codes (code, added_at) VALUES (?, ?)", code, Date.now());
      return null;
    });
  }

  async removePromotion(tokenHash: string, code: string): Promise<CartResult> {
    return this.mutate(tokenHash, async () => {
      const removed = this.sql.exec("DELETE FROM promotion_codes WHERE code = ?", code).rowsWritten;
      return removed === 0 ? refuse("promotion_not_on_cart", `${code} is not applied to this cart.`) : null;
    });
  }

  /**
   * Starts (or replays) a checkout. The same idempotency key returns the same checkout and
   * creates nothing; a different key while a checkout awaits payment is refused, so a cart
   * has at most one live payment. Everything runs inside `exclusive`, so racing requests for
   * this cart are applied one after the other.
   */
  async checkout(
    tokenHash: string,
    idempotencyKey: string,
    admission: Admission = NO_ADMISSION,
  ): Promise<CheckoutResult> {
    return this.exclusive(() =>
      this.unlessDatabaseDown(() => this.startCheckout(tokenHash, idempotencyKey, admission)),
    );
  }

  private async startCheckout(
    tokenHash: string,
    idempotencyKey: string,
    admission: Admission,
  ): Promise<CheckoutResult> {
    const cart = this.authorize(tokenHash);
    if (!cart) return refuse("cart_not_found");
    const replay = this.sql
      .exec<CheckoutRow>("SELECT * FROM checkouts WHERE idempotency_key = ?", idempotencyKey)
      .toArray()[0];
    const fingerprint = await this.requestFingerprint(cart);
    if (replay && replay.request_fingerprint !== null && replay.request_fingerprint !== fingerprint) {
      return refuse(
        "idempotency_key_reused",
        "This Idempotency-Key started a checkout of the cart as it was then; the cart has changed since. Use a fresh key.",
        { checkout_id: replay.id },
      );
    }
    if (replay) {
      // A checkout whose payment could not be started resumes under the same key, within
      // its resume window (after it, the alarm gives everything back).
      if (replay.completion !== null && replay.order_id === null) {
        await this.complete(replay, JSON.parse(replay.completion) as PaymentOutcome);
      } else if (replay.status === "pending" && replay.expires_at > Date.now()) {
        return this.resumeCheckout(replay, admission);
      } else if (replay.status === "pending") {
        await this.expireCheckout(replay);
      }
      return { ok: true, checkout: this.checkoutView(this.requireCheckout(replay.id)), created: false };
    }
    const active = this.sql
      .exec<CheckoutRow>(`SELECT * FROM checkouts WHERE ${ACTIVE_CHECKOUT}`)
      .toArray()[0];
    if (active) {
      return refuse("checkout_in_progress", "This cart already has a checkout awaiting payment.", {
        checkout_id: active.id,
      });
    }
    if (cart.status === "completed") return refuse("cart_locked", "This cart has been checked out.");
    const snapshot = await snapshotCart(this.env, cart, this.lines(), this.promotionCodes());
    if (!snapshot.ok) return snapshot;

    const checkoutId = newId("chk");
    const now = Date.now();
    // The key → checkout mapping is written before anything is taken for it: a retry with the
    // same key after a crash at any later step finds this checkout and resumes it, and every
    // hold below is keyed by the checkout id, so resuming never takes stock twice.
    this.sql.exec(
      `INSERT INTO checkouts (id, idempotency_key, status, snapshot, reservations, promotion_ids, reserved,
         created_at, updated_at, expires_at, request_fingerprint)
       VALUES (?, ?, 'pending', ?, '[]', ?, 0, ?, ?, ?, ?)`,
      checkoutId,
      idempotencyKey,
      JSON.stringify(snapshot.value),
      JSON.stringify(snapshot.value.promotions.map((promotion) => promotion.promotion_id)),
      now,
      now,
      now + PAYMENT_RESUME_WINDOW_MS,
      fingerprint,
    );
    this.sql.exec("UPDATE cart SET status = 'checking_out', updated_at = ?", now);
    await this.scheduleAlarm();
    return this.resumeCheckout(this.requireCheckout(checkoutId), admission);
  }

  /** Takes (or finds again) a `pending` checkout's holds, then starts its payment. */
  private async resumeCheckout(row: CheckoutRow, admission: Admission): Promise<CheckoutResult> {
    if (row.reserved === 0) {
      const reserved = await this.reserveFor(row, admission);
      if (!reserved.ok) return reserved;
    }
    return this.startPayment(this.requireCheckout(row.id));
  }

  /**
   * Holds stock for every line of a `pending` checkout and records the holds. Refused: nothing
   * is held any more, so the attempt is forgotten (the key may be tried again) and the cart reopens.
   */
  private async reserveFor(row: CheckoutRow, admission: Admission): Promise<{ ok: true } | CartRefusal> {
    const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
    await this.env.DB.prepare(
      "INSERT INTO checkout_index (id, cart_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
    )
      .bind(row.id, snapshot.cart_id, row.created_at)
      .run();
    const reserved = await reserveCheckoutLines(this.env, {
      checkoutId: row.id,
      cartId: snapshot.cart_id,
      customer: customerIdentity(snapshot.email),
      lines: this.reservableLines(),
      ttlSeconds: CHECKOUT_HOLD_TTL_SECONDS,
      admission,
    });
    if (!reserved.ok) {
      const now = Date.now();
      this.sql.exec("DELETE FROM checkouts WHERE id = ?", row.id);
      this.sql.exec("UPDATE cart SET status = 'open', updated_at = ? WHERE status = 'checking_out'", now);
      await this.touch();
      await this.markSettled(row.id);
      return stockRefusal(reserved, { sku: reserved.sku, line_id: reserved.line_id });
    }
    // The cart shows each hold's real deadline, capped by the inventory.
    for (const [lineId, expiresAt] of reserved.lineExpiries) {
      this.sql.exec("UPDATE lines SET reservation_expires_at = ? WHERE id = ?", expiresAt, lineId);
    }
    // Recorded before promotion uses are held: from here on the checkout's alarm (or a replay)
    // can always find and give back what it took.
    this.sql.exec(
      "UPDATE checkouts SET reservations = ?, reserved = 1, updated_at = ? WHERE id = ?",
      JSON.stringify(reserved.reservations),
      Date.now(),
      row.id,
    );
    return { ok: true };
  }

  private reservableLines() {
    return this.lines().map((line) => ({
      line_id: line.id,
      sku: line.sku,
      quantity: line.quantity,
      reservation_id: line.reservation_id,
    }));
  }

  /** A checkout of this cart, reconciled with the provider while it still awaits payment. */
  async getCheckout(tokenHash: string, checkoutId: string): Promise<CheckoutResult> {
    return this.exclusive(() =>
      this.unlessDatabaseDown(async () => {
        if (!this.authorize(tokenHash)) return refuse("cart_not_found");
        const row = this.checkoutRow(checkoutId);
        if (!row) return refuse("checkout_not_found");
        if (row.completion !== null && row.order_id === null) {
          await this.complete(row, JSON.parse(row.completion) as PaymentOutcome);
        } else if (
          (row.status === "awaiting_payment" || row.status === "requires_action") &&
          row.payment_id &&
          this.providerPolls.take(row.id)
        ) {
          // The "client confirmed" path: Stripe.js confirmed in the browser and the client
          // polls; if the webhook has not arrived (or never will), ask the provider directly,
          // at most once per poll interval (in between, the last answer stored is the answer).
          // Best effort: with the provider down or rate limiting, the stored state is the answer.
          try {
            const session = await paymentProviderFor(this.env).getPayment(row.payment_id);
            await this.applySession(row, session);
          } catch (error) {
            if (!isProviderUnavailable(error)) throw error;
            log("warn", "checkout_reconcile_skipped", { checkout_id: row.id, ...describeError(error) });
          }
        }
        return { ok: true, checkout: this.checkoutView(this.requireCheckout(checkoutId)), created: false };
      }),
    );
  }

  /** The payment id of a checkout, for the test provider's confirmation route. */
  async checkoutPayment(
    tokenHash: string,
    checkoutId: string,
  ): Promise<{ ok: true; provider: string | null; payment_id: string | null } | CartRefusal> {
    if (!this.authorize(tokenHash)) return refuse("cart_not_found");
    const row = this.checkoutRow(checkoutId);
    if (!row) return refuse("checkout_not_found");
    return { ok: true, provider: row.provider, payment_id: row.payment_id };
  }

  /**
   * Applies a payment outcome (webhook, test confirmation or reconciliation). Idempotent and
   * order-insensitive: a success after a failure or an expiry still completes (re-reserving
   * stock, refunding if it is gone); a failure after a success is ignored.
   */
  async applyPaymentOutcome(
    outcome: PaymentOutcome,
  ): Promise<{ ok: true; checkout: CheckoutView } | CartRefusal> {
    return this.exclusive(() =>
      this.unlessDatabaseDown(async () => {
        const row = this.checkoutRow(outcome.checkout_id);
        if (!row || row.payment_id !== outcome.payment_id) return refuse("checkout_not_found");
        await this.applyOutcome(row, outcome);
        return { ok: true as const, checkout: this.checkoutView(this.requireCheckout(row.id)) };
      }),
    );
  }

  /**
   * Finishes whatever a checkout still owes, without its shopper: a recorded completion is
   * re-driven, a live payment is asked about at the provider and its outcome applied. The
   * cron sweeper and the auditor's repair call this; it is idempotent.
   */
  async reconcile(checkoutId: string): Promise<ReconcileResult> {
    return this.exclusive(() =>
      this.unlessDatabaseDown(async (): Promise<ReconcileResult> => {
        const row = this.checkoutRow(checkoutId);
        if (!row) return refuse("checkout_not_found");
        try {
          if (row.completion !== null && row.order_id === null) {
            await this.complete(row, JSON.parse(row.completion) as PaymentOutcome);
          } else if (
            (row.status === "awaiting_payment" || row.status === "requires_action") &&
            row.payment_id
          ) {
            await this.applySession(row, await paymentProviderFor(this.env).getPayment(row.payment_id));
          } else if (row.status === "pending" && row.expires_at <= Date.now()) {
            await this.expireCheckout(row);
          }
        } catch (error) {
          if (!isProviderUnavailable(error)) throw error;
          return refuse("payment_provider_unavailable", error.message);
        }
        const current = this.requireCheckout(checkoutId);
        const settled = TERMINAL_STATUSES.includes(current.status);
        if (settled) await this.markSettled(checkoutId);
        return { ok: true, status: this.checkoutView(current).status, settled };
      }),
    );
  }

  /**
   * The stock holds this cart relies on (line holds and its live checkouts' holds), for the
   * auditor's orphaned-hold check. `settling` means a checkout is between steps (holds being
   * taken or an order being completed): its holds cannot be judged now.
   */
  async holdsInUse(): Promise<{ exists: boolean; reservation_ids: string[]; settling: boolean }> {
    return this.exclusive(async () => {
      if (!this.cartRow()) return { exists: false, reservation_ids: [], settling: false };
      const ids = new Set<string>();
      for (const line of this.lines()) if (line.reservation_id) ids.add(line.reservation_id);
      const live = this.sql
        .exec<CheckoutRow>(`SELECT * FROM checkouts WHERE ${ACTIVE_CHECKOUT} OR (${COMPLETING})`)
        .toArray();
      for (const row of live) {
        for (const r of JSON.parse(row.reservations) as CheckoutReservation[]) ids.add(r.reservation_id);
      }
      const settling = live.some((row) => row.reserved === 0 || row.completion !== null);
      return { exists: true, reservation_ids: [...ids], settling };
    });
  }

  /**
   * Takes the promotion uses and creates the payment for a `pending` checkout. Both steps are
   * idempotent (per checkout), so a replay after a crash or timeout resumes here safely.
   */
  private async startPayment(row: CheckoutRow): Promise<CheckoutResult> {
    const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
    const promotionIds = JSON.parse(row.promotion_ids) as string[];
    let held: Awaited<ReturnType<typeof holdPromotionUses>>;
    try {
      held = await holdPromotionUses(this.env, {
        checkoutId: row.id,
        email: snapshot.email,
        promotionIds,
      });
    } catch (error) {
      const outage = databaseOutage(error);
      if (outage) return this.awaitResume(row, outage);
      throw error;
    }
    if (!held.ok) {
      await this.abandon(row, "failed", {
        code: "promotion_unavailable",
        message: "A promotion code ran out.",
      });
      const code =
        snapshot.promotions.find((promotion) => promotion.promotion_id === held.promotionId)?.code ?? null;
      return refuse(
        "promotion_unavailable",
        held.reason === "customer_limit_reached"
          ? `${code} has already been used by this customer.`
          : `${code} has reached its usage limit.`,
        { promotion_code: code, why: held.reason },
      );
    }
    let session: PaymentSession;
    try {
      session = await paymentProviderFor(this.env).createPayment({
        checkoutId: row.id,
        cartId: snapshot.cart_id,
        amount: { amount: snapshot.total, currency: snapshot.currency },
        email: snapshot.email,
        idempotencyKey: paymentIdempotencyKey(row.id, "create"),
      });
      // Provider events are acted on only for payments recorded here (a shared Stripe
      // account also carries other shops' payments). A retry records the same id again.
      await this.env.DB.prepare("UPDATE checkout_index SET payment_id = ?1 WHERE id = ?2")
        .bind(session.payment_id, row.id)
        .run();
    } catch (error) {
      const outage = isProviderUnavailable(error) ? error : databaseOutage(error);
      if (outage) return this.awaitResume(row, outage);
      log("error", "checkout_payment_create_failed", { checkout_id: row.id, ...describeError(error) });
      await this.abandon(row, "failed", {
        code: "payment_provider_unavailable",
        message: "The payment could not be started.",
      });
      if (error instanceof PaymentProviderError && error.code === "not_configured") {
        return refuse("payment_provider_not_configured", "Payments are not configured on this shop.");
      }
      return refuse("payment_provider_unavailable", "The payment provider refused to start the payment.");
    }
    // The payment exists: the full window applies again (a resume had shortened it).
    this.sql.exec(
      `UPDATE checkouts SET status = ?, provider = ?, payment_id = ?, client_secret = ?, next_action = ?, updated_at = ?,
         expires_at = created_at + ?
       WHERE id = ?`,
      session.status === "requires_action" ? "requires_action" : "awaiting_payment",
      session.provider,
      session.payment_id,
      session.client_secret,
      session.next_action ? JSON.stringify(session.next_action) : null,
      Date.now(),
      PAYMENT_WINDOW_MS,
      row.id,
    );
    await this.scheduleAlarm();
    const current = this.requireCheckout(row.id);
    // A provider that answers synchronously (or a replay after success) is settled now.
    await this.applySession(current, session);
    return { ok: true, checkout: this.checkoutView(this.requireCheckout(row.id)), created: true };
  }

  /**
   * The payment could not be started because the provider (timeout, outage, open circuit)
   * or D1 is unavailable. The checkout stays `pending` with its holds, so a retry with the
   * same Idempotency-Key resumes it and asks the provider again under the same derived
   * provider key: at most one payment exists, however many retries. Its deadline shrinks to
   * the resume window, after which the alarm releases stock and promotion uses.
   */
  private async awaitResume(
    row: CheckoutRow,
    error: DatabaseUnavailableError | PaymentProviderError,
  ): Promise<CheckoutResult> {
    const now = Date.now();
    this.sql.exec(
      "UPDATE checkouts SET expires_at = MIN(created_at + ?, ?), updated_at = ? WHERE id = ?",
      PAYMENT_WINDOW_MS,
      now + PAYMENT_RESUME_WINDOW_MS,
      now,
      row.id,
    );
    await this.scheduleAlarm();
    log("warn", "checkout_payment_deferred", { checkout_id: row.id, ...describeError(error) });
    if (error instanceof DatabaseUnavailableError) {
      return databaseDown(
        error,
        "The database is temporarily unavailable; retry with the same Idempotency-Key.",
        {
          checkout_id: row.id,
        },
      );
    }
    return refuse(
      "payment_provider_unavailable",
      "The payment provider did not answer; retry with the same Idempotency-Key.",
      { checkout_id: row.id, retry_after: error.retryAfterSeconds ?? 5 },
    );
  }

  /** Applies a provider's view of the payment when it is terminal (or needs action). */
  private async applySession(row: CheckoutRow, session: PaymentSession): Promise<void> {
    const status =
      session.status === "succeeded" || session.status === "failed" || session.status === "canceled"
        ? session.status
        : session.status === "requires_action"
          ? "requires_action"
          : null;
    if (status === null) return;
    await this.applyOutcome(row, {
      event_id: `reconcile:${session.payment_id}:${session.status}`,
      provider: session.provider,
      payment_id: session.payment_id,
      checkout_id: row.id,
      cart_id: this.requireCart().id,
      status,
      amount: session.amount,
    });
  }

  private async applyOutcome(row: CheckoutRow, outcome: PaymentOutcome): Promise<void> {
    const status = row.status as StoredStatus;
    switch (outcome.status) {
      case "succeeded":
        if (status !== "completed" && row.order_id === null) await this.complete(row, outcome);
        return;
      case "requires_action":
        if (status === "awaiting_payment") {
          this.sql.exec(
            "UPDATE checkouts SET status = 'requires_action', updated_at = ? WHERE id = ?",
            Date.now(),
            row.id,
          );
        }
        return;
      case "failed":
      case "canceled":
        if (status === "pending" || status === "awaiting_payment" || status === "requires_action") {
          await this.closeUnpaid(row, "failed", {
            code: outcome.status === "failed" ? "payment_failed" : "payment_canceled",
            message:
              outcome.failure_message ??
              (outcome.status === "failed" ? "The payment failed." : "The payment was canceled."),
          });
        }
        return;
    }
  }

  /**
   * Ends a checkout whose payment did not succeed. The payment is cancelled first, so it can
   * never succeed after its stock and promotion uses were given back; if the cancel reveals
   * that it succeeded meanwhile, the checkout completes instead.
   */
  private async closeUnpaid(
    row: CheckoutRow,
    status: "failed" | "expired",
    failure: { code: string; message: string },
  ): Promise<void> {
    if (row.payment_id) {
      const provider = paymentProviderFor(this.env);
      const session = await provider.cancelPayment(row.payment_id, paymentIdempotencyKey(row.id, "cancel"));
      if (session.status === "succeeded") {
        await this.applySession(row, session);
        return;
      }
      if (session.status === "processing") {
        await this.awaitSettlement(row);
        return;
      }
    }
    await this.abandon(row, status, failure);
  }

  /** The payment cannot be cancelled while it is processing: ask again later, cart still locked. */
  private async awaitSettlement(row: CheckoutRow): Promise<void> {
    const now = Date.now();
    this.sql.exec(
      "UPDATE checkouts SET expires_at = ?, updated_at = ? WHERE id = ?",
      now + PROCESSING_RECHECK_MS,
      now,
      row.id,
    );
    log("info", "checkout_payment_processing", { checkout_id: row.id, payment_id: row.payment_id });
    await this.scheduleAlarm();
  }

  /**
   * A payment succeeded for a checkout of a cart that already became an order (a late payment
   * from an earlier attempt): one cart never makes two orders, so this payment is refunded in
   * full and its checkout gives back what it held.
   */
  private async refundDuplicate(row: CheckoutRow, outcome: PaymentOutcome, orderCheckout: string) {
    log("error", "checkout_duplicate_payment_refunded", {
      checkout_id: row.id,
      payment_id: outcome.payment_id,
      order_checkout_id: orderCheckout,
    });
    await paymentProviderFor(this.env).refund({
      paymentId: outcome.payment_id,
      idempotencyKey: paymentIdempotencyKey(row.id, "refund:duplicate"),
      reason: "duplicate",
    });
    const reservations = JSON.parse(row.reservations) as CheckoutReservation[];
    await releaseCheckoutReservations(this.env, reservations, { includeLineHolds: false });
    await releasePromotionUses(this.env, row.id);
    this.sql.exec(
      "UPDATE checkouts SET status = 'failed', failure = ?, updated_at = ? WHERE id = ?",
      JSON.stringify({
        code: "duplicate_payment_refunded",
        message: "This cart was already paid for; this later payment was refunded in full.",
      }),
      Date.now(),
      row.id,
    );
  }

  /** Gives back a checkout's stock and promotion uses and reopens the cart for a retry. */
  private async abandon(
    row: CheckoutRow,
    status: "failed" | "expired",
    failure: { code: string; message: string },
  ) {
    const reservations = JSON.parse(row.reservations) as CheckoutReservation[];
    if (row.reserved === 0) {
      const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
      await releaseUnrecordedHolds(this.env, {
        checkoutId: row.id,
        cartId: snapshot.cart_id,
        customer: customerIdentity(snapshot.email),
        lines: this.reservableLines(),
        ttlSeconds: CHECKOUT_HOLD_TTL_SECONDS,
      });
    }
    await releaseCheckoutReservations(this.env, reservations, { includeLineHolds: false });
    // A failed payment never renews the shopper's holds: they fall back to the sale's TTL.
    const deadlines = await curtailLineHolds(this.env, reservations);
    for (const [lineId, expiresAt] of deadlines) {
      this.sql.exec(
        "UPDATE lines SET reservation_id = CASE WHEN ? IS NULL THEN NULL ELSE reservation_id END, reservation_expires_at = ? WHERE id = ?",
        expiresAt,
        expiresAt,
        lineId,
      );
    }
    await releasePromotionUses(this.env, row.id);
    const now = Date.now();
    this.sql.exec(
      "UPDATE checkouts SET status = ?, failure = ?, updated_at = ? WHERE id = ?",
      status,
      JSON.stringify(failure),
      now,
      row.id,
    );
    this.sql.exec("UPDATE cart SET status = 'open', updated_at = ? WHERE status = 'checking_out'", now);
    await this.touch();
    await this.markSettled(row.id);
  }

  /**
   * Tells D1's checkout index that this checkout needs nothing more (the sweeper stops asking).
   * Best effort: if D1 is unreachable the sweeper asks again and this runs again.
   */
  private async markSettled(checkoutId: string): Promise<void> {
    try {
      await this.env.DB.prepare(
        "UPDATE checkout_index SET settled_at = ?2 WHERE id = ?1 AND settled_at IS NULL",
      )
        .bind(checkoutId, Date.now())
        .run();
    } catch (error) {
      log("warn", "checkout_settle_mark_failed", { checkout_id: checkoutId, ...describeError(error) });
    }
  }

  /**
   * Paid: commit the stock, then write the order once (`placeOrder` writes `order.placed` and
   * `order.paid` to the outbox in the same D1 batch). If stock was lost
   * (the payment outlived its reservations and the units were sold), nothing is oversold: the
   * units that were committed go back, the order is written flagged and refunded in full.
   */
  private async complete(row: CheckoutRow, outcome: PaymentOutcome): Promise<void> {
    const ordered = this.sql
      .exec<{ id: string }>("SELECT id FROM checkouts WHERE status = 'completed' AND id != ?", row.id)
      .toArray()[0];
    if (ordered) {
      await this.refundDuplicate(row, outcome, ordered.id);
      return;
    }
    if (row.completion === null) {
      // The order is owed from here on. The intent (with the outcome it needs) is written and
      // flushed, and the alarm armed, before any stock is committed: whatever dies below, the
      // alarm, a replay, the webhook or the sweeper re-runs this method, and every step in it is
      // idempotent per checkout (commit per order, order per checkout, refund per key).
      this.sql.exec(
        "UPDATE checkouts SET completion = ?, updated_at = ? WHERE id = ?",
        JSON.stringify(outcome),
        Date.now(),
        row.id,
      );
      await this.scheduleAlarm();
      await this.ctx.storage.sync();
    }
    const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
    const reservations = JSON.parse(row.reservations) as CheckoutReservation[];
    const { committed, lost } = await commitCheckoutReservations(this.env, {
      checkoutId: row.id,
      cartId: snapshot.cart_id,
      email: snapshot.email,
      reservations,
    });
    const flags: string[] = [];
    if (outcome.amount.amount !== snapshot.total || outcome.amount.currency !== snapshot.currency) {
      flags.push("payment_amount_mismatch");
    }
    if (lost.length > 0) {
      await returnCheckoutReservations(this.env, row.id, committed, "stock lost before payment completed");
      await releasePromotionUses(this.env, row.id);
      flags.push("stock_lost_refunded");
    } else {
      const { overLimit } = await redeemPromotionUses(this.env, {
        checkoutId: row.id,
        email: snapshot.email,
        promotionIds: snapshot.promotions.map((promotion) => promotion.promotion_id),
      });
      if (overLimit.length > 0) flags.push("promotion_limit_exceeded");
    }
    const lookupToken = this.lookupToken(row);
    const payment = {
      ...outcome,
      provider: (row.provider ?? outcome.provider) as PaymentOutcome["provider"],
    };
    const { order } = await placeOrder(
      this.env,
      orderDraftFrom(row.id, snapshot, payment, {
        flags,
        lookupToken,
        // Stock-lost orders were returned to stock already: nothing for a cancellation to restock.
        reservations: new Map(lost.length > 0 ? [] : committed.map((r) => [r.line_id, r.reservation_id])),
      }),
    );
    if (lost.length > 0) {
      await refundOrder(this.env, paymentProviderFor(this.env), {
        orderId: order.id,
        reason: `stock lost for ${lost.map((reservation) => reservation.sku).join(", ")}`,
        idempotencyKey: paymentIdempotencyKey(row.id, "refund:stock_lost"),
      });
    }
    const now = Date.now();
    this.sql.exec(
      "UPDATE checkouts SET status = ?, order_id = ?, failure = ?, updated_at = ? WHERE id = ?",
      lost.length > 0 ? "failed" : "completed",
      JSON.stringify({ id: order.id, number: order.number }),
      lost.length > 0
        ? JSON.stringify({
            code: "stock_lost_refunded",
            message: "An item sold out before the payment completed; the payment was refunded in full.",
          })
        : null,
      now,
      row.id,
    );
    // Line holds were consumed by the commit (or returned); the cart no longer owns them.
    const lineIds = reservations.filter((reservation) => reservation.source === "line").map((r) => r.line_id);
    for (const lineId of lineIds) {
      this.sql.exec(
        "UPDATE lines SET reservation_id = NULL, reservation_expires_at = NULL WHERE id = ?",
        lineId,
      );
    }
    this.sql.exec("UPDATE cart SET status = ?, updated_at = ?", lost.length > 0 ? "open" : "completed", now);
    await this.touch();
    await this.markSettled(row.id);
  }

  /**
   * A checkout request has no body: what its Idempotency-Key stands for is the cart it checks
   * out (lines, customer, address, shipping, codes). The same key on a changed cart is refused.
   */
  private async requestFingerprint(cart: CartRow): Promise<string> {
    const lines = this.lines()
      .map((line) => [line.sku, line.quantity] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return sha256Hex(
      JSON.stringify([
        lines,
        cart.email,
        cart.shipping_address,
        cart.shipping_method,
        [...this.promotionCodes()].sort(),
      ]),
    );
  }

  /** The guest lookup token for the checkout's order: chosen once, stored so replays can show it. */
  private lookupToken(row: CheckoutRow): string {
    const existing = this.sql
      .exec<{ token: string }>("SELECT token FROM order_tokens WHERE checkout_id = ?", row.id)
      .toArray()[0];
    if (existing) return existing.token;
    const token = newSecret();
    this.sql.exec("INSERT INTO order_tokens (checkout_id, token) VALUES (?, ?)", row.id, token);
    return token;
  }

  /**
   * Payment window over: settle with the provider, else cancel and give everything back. A
   * payment still `processing` (bank debits, delayed methods) can yet succeed, so the checkout
   * stays open and the cart locked until it settles: reopening now is how one cart got two orders.
   */
  private async expireCheckout(row: CheckoutRow): Promise<void> {
    if (row.payment_id) {
      const session = await paymentProviderFor(this.env).getPayment(row.payment_id);
      if (session.status === "succeeded") {
        await this.applySession(row, session);
        return;
      }
      if (session.status === "processing") {
        await this.awaitSettlement(row);
        return;
      }
    }
    await this.closeUnpaid(row, "expired", {
      code: "payment_window_expired",
      message: "The payment was not completed in time; start a new checkout.",
    });
  }

  private checkoutRow(id: string): CheckoutRow | null {
    return this.sql.exec<CheckoutRow>("SELECT * FROM checkouts WHERE id = ?", id).toArray()[0] ?? null;
  }

  private requireCheckout(id: string): CheckoutRow {
    const row = this.checkoutRow(id);
    if (!row) throw new Error(`checkout ${id} missing`);
    return row;
  }

  private checkoutView(row: CheckoutRow): CheckoutView {
    const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
    const m = (amount: number) => ({ amount, currency: snapshot.currency });
    const order = row.order_id ? (JSON.parse(row.order_id) as { id: string; number: string }) : null;
    const status: CheckoutStatus =
      row.status === "pending" ? "awaiting_payment" : (row.status as CheckoutStatus);
    return {
      id: row.id,
      cart_id: snapshot.cart_id,
      status,
      payment:
        row.provider && row.payment_id
          ? {
              provider: row.provider as "stripe" | "test",
              payment_id: row.payment_id,
              client_secret: status === "completed" ? null : row.client_secret,
              next_action: row.next_action
                ? (JSON.parse(row.next_action) as { type: string; url?: string })
                : null,
            }
          : null,
      lines: snapshot.lines.map((line) => ({
        sku: line.sku,
        quantity: line.quantity,
        unit_price: m(line.unit_price),
        total: m(line.total),
      })),
      totals: {
        subtotal: m(snapshot.subtotal),
        discount: m(snapshot.discount),
        shipping: m(snapshot.shipping),
        tax: m(snapshot.tax),
        total: m(snapshot.total),
        tax_inclusive: snapshot.tax_inclusive,
        tax_lines: taxLines(snapshotTaxParts(snapshot), snapshot.currency),
      },
      order: order ? { ...order, lookup_token: this.lookupToken(row) } : null,
      failure: row.failure ? (JSON.parse(row.failure) as { code: string; message: string }) : null,
      expires_at: iso(row.expires_at),
      created_at: iso(row.created_at),
    };
  }

  /**
   * The cart's one alarm, at-least-once, so every step is idempotent. In order: finishes any
   * checkout whose payment succeeded but whose order is still owed (crash recovery), expires
   * checkouts past their payment window (settling with the provider, releasing holds), then
   * either re-arms (a checkout still active, or the cart used since) or expires the cart and
   * releases its holds. A step that needs the provider or D1 while they are down re-arms soon
   * instead of throwing away the platform's alarm retries.
   */
  override async alarm(): Promise<void> {
    await this.exclusive(async () => {
      const cart = this.cartRow();
      if (!cart) return;
      const now = Date.now();
      let deferred = false;
      for (const row of this.sql.exec<CheckoutRow>(`SELECT * FROM checkouts WHERE ${COMPLETING}`).toArray()) {
        try {
          await this.complete(row, JSON.parse(row.completion ?? "null") as PaymentOutcome);
          log("info", "checkout_completion_recovered", { checkout_id: row.id });
        } catch (error) {
          // Never give up on an owed order: retry on the next alarm whatever failed.
          log("error", "checkout_completion_deferred", { checkout_id: row.id, ...describeError(error) });
          deferred = true;
        }
      }
      const due = this.sql
        .exec<CheckoutRow>(
          `SELECT * FROM checkouts WHERE ${ACTIVE_CHECKOUT} AND completion IS NULL AND expires_at <= ?`,
          now,
        )
        .toArray();
      for (const row of due) {
        try {
          await this.expireCheckout(row);
        } catch (error) {
          if (!isProviderUnavailable(error) && !databaseOutage(error)) throw error;
          // Settling needs the provider (or D1): try again soon rather than burning the
          // platform's alarm retries. Holds lapse on their own after the grace period.
          log("warn", "checkout_expiry_deferred", { checkout_id: row.id, ...describeError(error) });
          deferred = true;
        }
      }
      if (deferred) {
        const completing = this.sql
          .exec<{ n: number }>(`SELECT count(*) AS n FROM checkouts WHERE ${COMPLETING}`)
          .one().n;
        await this.ctx.storage.setAlarm(now + (completing > 0 ? COMPLETION_RETRY_MS : EXPIRY_RETRY_MS));
        return;
      }
      const active = this.sql
        .exec<{ n: number }>(`SELECT count(*) AS n FROM checkouts WHERE ${ACTIVE_CHECKOUT}`)
        .one().n;
      if (active > 0 || this.requireCart().expires_at > now) {
        await this.scheduleAlarm();
        return;
      }
      await this.expire();
    });
  }

  /** Releases every hold the cart has, then forgets the cart. Safe to repeat after a crash. */
  private async expire(): Promise<void> {
    await Promise.all(
      this.lines().map((line) =>
        releaseLineStock(this.env, { sku: line.sku, reservationId: line.reservation_id }),
      ),
    );
    await this.ctx.storage.deleteAll();
    // deleteAll drops the SQLite tables too; recreate them so this instance stays usable.
    migrateCartStorage(this.ctx.storage);
  }

  /** Runs `work`, answering `database_unavailable` (503, with Retry-After) if D1 is down or too slow. */
  private async unlessDatabaseDown<T>(work: () => Promise<T>): Promise<T | CartRefusal> {
    try {
      return await work();
    } catch (error) {
      const outage = databaseOutage(error);
      if (!outage) throw error;
      log("warn", "cart_database_unavailable", { ...describeError(outage) });
      return databaseDown(outage);
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private mutate(
    tokenHash: string,
    change: (cart: CartRow) => Promise<CartRefusal | null>,
  ): Promise<CartResult> {
    return this.exclusive(() => this.unlessDatabaseDown(() => this.applyMutation(tokenHash, change)));
  }

  private async applyMutation(
    tokenHash: string,
    change: (cart: CartRow) => Promise<CartRefusal | null>,
  ): Promise<CartResult> {
    const cart = this.authorize(tokenHash);
    if (!cart) return refuse("cart_not_found");
    if (cart.status !== "open") {
      return refuse(
        "cart_locked",
        cart.status === "completed"
          ? "This cart has been checked out."
          : "A checkout of this cart is awaiting payment; wait for it to finish or fail.",
      );
    }
    const refusal = await change(cart);
    if (refusal) return refusal;
    await this.touch();
    return { ok: true, cart: await this.render(this.requireCart()) };
  }

  private authorize(tokenHash: string): CartRow | null {
    const cart = this.cartRow();
    return cart && sameDigest(cart.token_hash, tokenHash) ? cart : null;
  }

  private cartRow(): CartRow | null {
    return this.sql.exec<CartRow>("SELECT * FROM cart").toArray()[0] ?? null;
  }

  private requireCart(): CartRow {
    const cart = this.cartRow();
    if (!cart) throw new Error("cart state missing");
    return cart;
  }

  private lines(): LineRow[] {
    // rowid breaks ties in insertion order: a whole cart's lines share one created_at and
    // must keep the order they were asked for in (line ids are random).
    return this.sql.exec<LineRow>("SELECT * FROM lines ORDER BY created_at, rowid").toArray();
  }

  private lineById(id: string): LineRow | null {
    return this.sql.exec<LineRow>("SELECT * FROM lines WHERE id = ?", id).toArray()[0] ?? null;
  }

  private lineBySku(sku: string): LineRow | null {
    return this.sql.exec<LineRow>("SELECT * FROM lines WHERE sku = ?", sku).toArray()[0] ?? null;
  }

  private lineCount(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM lines").one().n;
  }

  /** Releases the line's stock first: a crash in between leaves a line without stock, never stock without a line. */
  private async deleteLine(line: LineRow): Promise<void> {
    await releaseLineStock(this.env, { sku: line.sku, reservationId: line.reservation_id });
    this.sql.exec("DELETE FROM lines WHERE id = ?", line.id);
  }

  private promotionCodes(): string[] {
    return this.sql
      .exec<{ code: string }>("SELECT code FROM promotion_codes ORDER BY added_at, code")
      .toArray()
      .map((row) => row.code);
  }

  private async touch(): Promise<void> {
    const now = Date.now();
    this.sql.exec("UPDATE cart SET updated_at = ?, expires_at = ?", now, now + CART_IDLE_TTL_MS);
    await this.scheduleAlarm();
  }

  /** The next deadline: the end of an open payment window, else the inactivity expiry. */
  private async scheduleAlarm(): Promise<void> {
    const cart = this.cartRow();
    if (!cart) return;
    const checkout = this.sql
      .exec<{ at: number | null }>(`SELECT min(expires_at) AS at FROM checkouts WHERE ${ACTIVE_CHECKOUT}`)
      .one().at;
    const completing = this.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM checkouts WHERE ${COMPLETING}`)
      .one().n;
    await this.ctx.storage.setAlarm(
      Math.min(
        checkout ?? cart.expires_at,
        cart.expires_at,
        completing > 0 ? Date.now() + COMPLETION_RETRY_MS : Number.POSITIVE_INFINITY,
      ),
    );
  }

  /** Prices the cart as it stands (see `priceCart`). */
  private price(
    cart: CartRow,
    options: { checkout?: boolean; fresh?: Map<string, CatalogItem> } = {},
  ): Promise<CartPricing> {
    return priceCart(this.env, cart, this.lines(), this.promotionCodes(), options);
  }

  private async render(cart: CartRow, fresh?: Map<string, CatalogItem>): Promise<CartView> {
    const pricing = await this.price(cart, fresh ? { fresh } : {});
    return cartView(cart, this.lines(), pricing);
  }
}
