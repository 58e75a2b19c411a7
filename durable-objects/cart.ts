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
import { type Address, type CartView, MAX_PROMOTION_CODES } from "../workers/cart/schemas";
import { AttemptLimits, tooManyAttempts } from "../workers/checkout/attempt-limits";
import { ProviderPollThrottle } from "../workers/checkout/poll-throttle";
import {
  applyPaymentOutcome,
  type CheckoutResult,
  checkoutStatus,
  confirmWithTestCard,
  holdsInUse,
  type ReconcileResult,
  reconcileCheckout,
  settleDueCheckouts,
} from "../workers/checkout/saga";
import type { CheckoutView } from "../workers/checkout/schemas";
import { beginCheckout } from "../workers/checkout/start";
import { customerIdentity, identityOf } from "../workers/customers/identity";
import { sameDigest } from "../workers/lib/crypto";
import { databaseDown, databaseOutage } from "../workers/lib/d1-guard";
import { newId } from "../workers/lib/ids";
import { describeError, log } from "../workers/lib/logging";
import type { Currency } from "../workers/lib/money";
import { resilientEnv } from "../workers/lib/resilient-env";
import type { PaymentOutcome } from "../workers/payments/provider";
import { evaluatePromotion } from "../workers/promotions/rules";
import { customerUses, loadPromotionRules } from "../workers/promotions/service";
import { type Admission, NO_ADMISSION } from "../workers/waiting-room/admission";
import type { CartRow, LineRow } from "./cart-storage";
import { CART_IDLE_TTL_MS, CartStore } from "./cart-store";

export { MAX_LINE_SUBTOTAL } from "../workers/cart/cart-rules";
export {
  CHECKOUT_HOLD_TTL_SECONDS,
  COMPLETION_RETRY_MS,
  PAYMENT_RESUME_WINDOW_MS,
  PAYMENT_WINDOW_MS,
  PROCESSING_RECHECK_MS,
  RESERVATION_GRACE_SECONDS,
} from "../workers/checkout/deadlines";
export type { CheckoutResult, ReconcileResult } from "../workers/checkout/saga";
export { CART_IDLE_TTL_MS } from "./cart-store";

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

/**
 * One object per cart: the single writer for its lines, promotions, addresses and checkouts.
 * Every mutation runs through `exclusive`, so a mutation that awaits D1, an inventory shard or
 * the payment provider finishes before the next one starts: an update racing an add, or two
 * checkouts of the same cart, are applied one after the other, never interleaved. The checkout
 * saga lives in workers/checkout/ (saga.ts), written against `CheckoutStore`; the object hands
 * it its storage (`CartStore`) from inside `exclusive`. Not the object itself: every public
 * method of a Durable Object is callable over RPC, and storage writes must not be.
 */
export class CartObject extends DurableObject<Env> {
  /** The cart's rows; reads `env` at each use, as tests swap it on a running object. */
  private readonly store: CartStore;
  private tail: Promise<unknown> = Promise.resolve();
  /** Shopper status polls ask the provider at most once per interval per checkout. */
  private readonly providerPolls = new ProviderPollThrottle();
  private readonly attempts = new AttemptLimits();

  constructor(ctx: DurableObjectState, env: Env) {
    // D1 calls get a deadline and the isolate's circuit breaker, as in the edge worker.
    super(ctx, resilientEnv(env));
    this.store = new CartStore(ctx.storage, () => this.env);
    void ctx.blockConcurrencyWhile(async () => this.store.migrateIfStored());
  }

  /**
   * Initialises a new cart. The id and token hash come from the caller (the token never
   * reaches us). A whole cart arrives validated, its lines' stock already held for this cart
   * id (workers/cart/service.ts `createCart`), and is written in one step: either all of it
   * exists or nothing does.
   */
  async create(init: CartInit): Promise<CartView> {
    return this.exclusive(async () => {
      if (this.store.cart()) throw new Error(`cart ${init.id} already exists`);
      const now = Date.now();
      // No region selling in the currency yet: the cart still exists, it just cannot ship.
      const region = init.regionCode
        ? { code: init.regionCode }
        : await initialRegion(this.env, init.currency);
      this.store.insertCart({
        id: init.id,
        token_hash: init.tokenHash,
        currency: init.currency,
        region: region?.code ?? "",
        email: init.email ?? null,
        shipping_address: init.shippingAddress ? JSON.stringify(init.shippingAddress) : null,
        shipping_method: init.shippingMethod ?? null,
        created_at: now,
        expires_at: now + CART_IDLE_TTL_MS,
      });
      for (const line of init.lines ?? []) {
        this.store.insertLine({
          id: newId("line"),
          sku: line.sku,
          quantity: line.quantity,
          acknowledged_price: line.unitPrice,
          reservation_id: line.reservation?.id ?? null,
          reservation_expires_at: line.reservation ? Date.parse(line.reservation.expires_at) : null,
          created_at: now,
        });
      }
      await this.store.scheduleAlarm();
      return this.render(this.store.requireCart(), init.catalog);
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
      const existing = this.store.lineBySku(input.sku);
      const quantity = (existing?.quantity ?? 0) + input.quantity;
      const invalid = lineRefusal(input.sku, item, cart.currency as Currency, quantity, {
        isNewLine: !existing,
        lineCount: this.store.lineCount(),
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
      const line = {
        quantity,
        acknowledged_price: unitPrice,
        reservation_id: hold.reservation?.id ?? null,
        reservation_expires_at: hold.reservation ? Date.parse(hold.reservation.expires_at) : null,
      };
      const now = Date.now();
      if (existing) this.store.updateLine(existing.id, { ...line, updated_at: now });
      else this.store.insertLine({ ...line, id: newId("line"), sku: input.sku, created_at: now });
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
      const line = this.store.lineById(lineId);
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
      this.store.updateLine(line.id, {
        quantity,
        acknowledged_price: price,
        reservation_id: hold.reservation?.id ?? null,
        reservation_expires_at: hold.reservation ? Date.parse(hold.reservation.expires_at) : null,
        updated_at: Date.now(),
      });
      return null;
    });
  }

  async removeLine(tokenHash: string, lineId: string): Promise<CartResult> {
    return this.mutate(tokenHash, async () => {
      const line = this.store.lineById(lineId);
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
        for (const line of this.store.lines()) {
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
      this.store.updateCart({ email });
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
      this.store.updateCart({
        shipping_address: JSON.stringify(address),
        region: target.region.code,
        shipping_method: method,
      });
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
      this.store.updateCart({ shipping_method: methodId });
      return null;
    });
  }

  /**
   * Attaches a code. Codes that can never apply to this cart are refused; a code that only
   * misses its minimum subtotal stays attached and starts applying once the cart qualifies.
   */
  async addPromotion(tokenHash: string, code: string): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      if (this.store.promotionCodes().includes(code)) return null;
      if (this.store.promotionCodes().length >= MAX_PROMOTION_CODES) {
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
      this.store.addPromotionCode(code, Date.now());
      return null;
    });
  }

  async removePromotion(tokenHash: string, code: string): Promise<CartResult> {
    return this.mutate(tokenHash, async () => {
      return !this.store.removePromotionCode(code)
        ? refuse("promotion_not_on_cart", `${code} is not applied to this cart.`)
        : null;
    });
  }

  /**
   * Starts (or replays) a checkout (`beginCheckout` in workers/checkout/start.ts). Everything
   * runs inside `exclusive`, so racing requests for this cart are applied one after the other.
   */
  async checkout(
    tokenHash: string,
    idempotencyKey: string,
    admission: Admission = NO_ADMISSION,
  ): Promise<CheckoutResult> {
    return this.exclusive(() =>
      this.unlessDatabaseDown(async () => {
        const cart = this.authorize(tokenHash);
        if (!cart) return refuse("cart_not_found");
        const allowed = this.attempts.take("checkout");
        if (!allowed.ok) return tooManyAttempts(allowed.retryAfterSeconds);
        return beginCheckout(this.store, cart, { idempotencyKey, admission });
      }),
    );
  }

  /** A checkout of this cart, reconciled with the provider while it still awaits payment. */
  async getCheckout(tokenHash: string, checkoutId: string): Promise<CheckoutResult> {
    return this.exclusive(() =>
      this.unlessDatabaseDown(async () => {
        if (!this.authorize(tokenHash)) return refuse("cart_not_found");
        return checkoutStatus(this.store, checkoutId, this.providerPolls);
      }),
    );
  }

  /**
   * The payment id of a checkout. This release's confirmation route uses `confirmTestCheckout`;
   * the previous release's edge Worker still calls this during a gradual rollout (test/compat-rpc),
   * so it stays until no live version does.
   */
  async checkoutPayment(
    tokenHash: string,
    checkoutId: string,
  ): Promise<{ ok: true; provider: string | null; payment_id: string | null } | CartRefusal> {
    if (!this.authorize(tokenHash)) return refuse("cart_not_found");
    const row = this.store.checkout(checkoutId);
    if (!row) return refuse("checkout_not_found");
    return { ok: true, provider: row.provider, payment_id: row.payment_id };
  }

  /** Confirms a checkout's test payment with a card and applies the outcome (the offline provider only). */
  async confirmTestCheckout(
    tokenHash: string,
    checkoutId: string,
    cardNumber: string,
  ): Promise<CheckoutResult> {
    return this.exclusive(() =>
      this.unlessDatabaseDown(async () => {
        if (!this.authorize(tokenHash)) return refuse("cart_not_found");
        const allowed = this.attempts.take("confirm");
        if (!allowed.ok) return tooManyAttempts(allowed.retryAfterSeconds);
        return confirmWithTestCard(this.store, checkoutId, cardNumber, this.providerPolls);
      }),
    );
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
      this.unlessDatabaseDown(async () =>
        this.store.cart() ? applyPaymentOutcome(this.store, outcome) : refuse("checkout_not_found"),
      ),
    );
  }

  /**
   * Finishes whatever a checkout still owes, without its shopper: a recorded completion is
   * re-driven, a live payment is asked about at the provider and its outcome applied. The
   * cron sweeper and the auditor's repair call this; it is idempotent.
   */
  async reconcile(checkoutId: string): Promise<ReconcileResult> {
    return this.exclusive(() =>
      this.unlessDatabaseDown(async () =>
        this.store.cart() ? reconcileCheckout(this.store, checkoutId) : refuse("checkout_not_found"),
      ),
    );
  }

  /**
   * The stock holds this cart relies on (line holds and its live checkouts' holds), for the
   * auditor's orphaned-hold check. `settling` means a checkout is between steps (holds being
   * taken or an order being completed): its holds cannot be judged now.
   */
  async holdsInUse(): Promise<{ exists: boolean; reservation_ids: string[]; settling: boolean }> {
    return this.exclusive(async () => holdsInUse(this.store));
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
      if (!this.store.cart()) return;
      const now = Date.now();
      const retryIn = await settleDueCheckouts(this.store, now);
      if (retryIn !== null) {
        await this.store.setAlarm(now + retryIn);
        return;
      }
      if (this.store.checkouts("active").length > 0 || this.store.requireCart().expires_at > now) {
        // Always set here: the runtime deletes an alarm whose handler set none.
        await this.store.scheduleAlarm({ force: true });
        return;
      }
      await this.expire();
    });
  }

  /** Releases every hold the cart has, then forgets the cart. Safe to repeat after a crash. */
  private async expire(): Promise<void> {
    await Promise.all(
      this.store
        .lines()
        .map((line) => releaseLineStock(this.env, { sku: line.sku, reservationId: line.reservation_id })),
    );
    // Drops the SQLite tables too; the store makes them again if this instance is used.
    await this.store.deleteAll();
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
    await this.store.touch();
    return { ok: true, cart: await this.render(this.store.requireCart()) };
  }

  private authorize(tokenHash: string): CartRow | null {
    const cart = this.store.cart();
    return cart && sameDigest(cart.token_hash, tokenHash) ? cart : null;
  }

  /** Releases the line's stock first: a crash in between leaves a line without stock, never stock without a line. */
  private async deleteLine(line: LineRow): Promise<void> {
    await releaseLineStock(this.env, { sku: line.sku, reservationId: line.reservation_id });
    this.store.deleteLine(line.id);
  }

  /** Prices the cart as it stands (see `priceCart`). */
  private price(
    cart: CartRow,
    options: { checkout?: boolean; fresh?: Map<string, CatalogItem> } = {},
  ): Promise<CartPricing> {
    return priceCart(this.env, cart, this.store.lines(), this.store.promotionCodes(), options);
  }

  private async render(cart: CartRow, fresh?: Map<string, CatalogItem>): Promise<CartView> {
    const pricing = await this.price(cart, fresh ? { fresh } : {});
    return cartView(cart, this.store.lines(), pricing);
  }
}
