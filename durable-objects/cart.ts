import { DurableObject } from "cloudflare:workers";
import { loadCatalogItems } from "../workers/cart/catalog-prices";
import { type PricedCart, priceCart } from "../workers/cart/pricing";
import {
  type Address,
  type CartView,
  MAX_LINE_QUANTITY,
  MAX_LINES,
  MAX_PROMOTION_CODES,
} from "../workers/cart/schemas";
import { SHIPPING_RATES, shippingRate } from "../workers/cart/shipping-rates";
import { regionForCurrency, TAX_REGIONS, type TaxRegion } from "../workers/cart/tax-rates";
import { newId } from "../workers/lib/ids";
import type { Currency } from "../workers/lib/money";
import { evaluatePromotion } from "../workers/promotions/rules";
import { customerUses, loadPromotionRules } from "../workers/promotions/service";
import { type CartRow, type LineRow, migrateCartStorage } from "./cart-storage";

/** A cart nobody touched for this long is deleted (and its reservations released). */
export const CART_IDLE_TTL_MS = 3 * 24 * 60 * 60 * 1000;

/**
 * Keeps any one line's subtotal far enough below 2^53 that basis-point maths on a whole
 * cart (50 lines × 10 000 bp) stays exact.
 */
export const MAX_LINE_SUBTOTAL = 10_000_000_000;

export type CartRefusalReason =
  | "cart_not_found"
  | "cart_locked"
  | "unknown_sku"
  | "sku_unavailable"
  | "sold_out"
  | "quantity_limit_exceeded"
  | "too_many_lines"
  | "line_total_too_large"
  | "line_not_found"
  | "address_outside_region"
  | "unknown_shipping_method"
  | "promotion_invalid"
  | "too_many_promotions"
  | "promotion_not_on_cart";

/** A domain refusal, returned (not thrown) across RPC; `data` lands in the problem body. */
export interface CartRefusal {
  ok: false;
  reason: CartRefusalReason;
  detail?: string;
  data?: Record<string, string | number | null>;
}

export type CartResult = { ok: true; cart: CartView } | CartRefusal;

const refuse = (reason: CartRefusalReason, detail?: string, data?: CartRefusal["data"]): CartRefusal => ({
  ok: false,
  reason,
  ...(detail === undefined ? {} : { detail }),
  ...(data === undefined ? {} : { data }),
});

/** Constant-time comparison of two hex digests (both always 64 characters here). */
function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => migrateCartStorage(this.sql));
  }

  /** Initialises a new cart. The id and token hash come from the caller (the token never reaches us). */
  async create(init: {
    id: string;
    tokenHash: string;
    currency: Currency;
    email?: string;
  }): Promise<CartView> {
    return this.exclusive(async () => {
      if (this.cartRow()) throw new Error(`cart ${init.id} already exists`);
      const now = Date.now();
      const region = regionForCurrency(init.currency);
      this.sql.exec(
        `INSERT INTO cart (singleton, id, token_hash, currency, region, email, status, created_at, updated_at, expires_at)
         VALUES (1, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
        init.id,
        init.tokenHash,
        init.currency,
        region.code,
        init.email ?? null,
        now,
        now,
        now + CART_IDLE_TTL_MS,
      );
      await this.scheduleAlarm();
      return this.render(this.requireCart());
    });
  }

  async view(tokenHash: string): Promise<CartResult> {
    const cart = this.authorize(tokenHash);
    if (!cart) return refuse("cart_not_found");
    return { ok: true, cart: await this.render(cart) };
  }

  async addLine(tokenHash: string, input: { sku: string; quantity: number }): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      const catalog = await loadCatalogItems(this.env, [input.sku], cart.currency as Currency);
      const item = catalog.get(input.sku);
      if (!item) return refuse("unknown_sku", `No product variant has SKU ${input.sku}.`, { sku: input.sku });
      if (!item.purchasable || item.unitPrice === null) {
        return refuse("sku_unavailable", `${input.sku} cannot be bought in ${cart.currency}.`, {
          sku: input.sku,
        });
      }
      const existing = this.lineBySku(input.sku);
      const quantity = (existing?.quantity ?? 0) + input.quantity;
      if (quantity > MAX_LINE_QUANTITY) {
        return refuse("quantity_limit_exceeded", `At most ${MAX_LINE_QUANTITY} of one SKU per cart.`, {
          sku: input.sku,
          max: MAX_LINE_QUANTITY,
        });
      }
      if (!existing && this.lineCount() >= MAX_LINES) {
        return refuse("too_many_lines", `A cart holds at most ${MAX_LINES} lines.`, { max: MAX_LINES });
      }
      if (item.unitPrice * quantity > MAX_LINE_SUBTOTAL) {
        return refuse("line_total_too_large", "This line exceeds the largest amount a cart accepts.");
      }
      const now = Date.now();
      if (existing) {
        this.sql.exec(
          "UPDATE lines SET quantity = ?, acknowledged_price = ?, updated_at = ? WHERE id = ?",
          quantity,
          item.unitPrice,
          now,
          existing.id,
        );
      } else {
        this.sql.exec(
          `INSERT INTO lines (id, sku, quantity, acknowledged_price, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          newId("line"),
          input.sku,
          quantity,
          item.unitPrice,
          now,
          now,
        );
      }
      return null;
    });
  }

  /** Sets a line's quantity (0 removes it) and acknowledges its current price. */
  async updateLine(tokenHash: string, lineId: string, quantity: number): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      const line = this.lineById(lineId);
      if (!line) return refuse("line_not_found");
      if (quantity === 0) {
        this.deleteLine(line);
        return null;
      }
      const item = (await loadCatalogItems(this.env, [line.sku], cart.currency as Currency)).get(line.sku);
      const price = item?.purchasable && item.unitPrice !== null ? item.unitPrice : line.acknowledged_price;
      if (price * quantity > MAX_LINE_SUBTOTAL) {
        return refuse("line_total_too_large", "This line exceeds the largest amount a cart accepts.");
      }
      this.sql.exec(
        "UPDATE lines SET quantity = ?, acknowledged_price = ?, updated_at = ? WHERE id = ?",
        quantity,
        price,
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
      this.deleteLine(line);
      return null;
    });
  }

  async setEmail(tokenHash: string, email: string): Promise<CartResult> {
    return this.mutate(tokenHash, async () => {
      this.sql.exec("UPDATE cart SET email = ?", email);
      return null;
    });
  }

  async setShippingAddress(tokenHash: string, address: Address): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      const region = this.region(cart);
      if (!region.countries.includes(address.country)) {
        return refuse(
          "address_outside_region",
          `A ${cart.currency} cart ships to ${region.countries.join(", ")}.`,
          { country: address.country },
        );
      }
      this.sql.exec("UPDATE cart SET shipping_address = ?", JSON.stringify(address));
      return null;
    });
  }

  async setShippingMethod(tokenHash: string, methodId: string): Promise<CartResult> {
    return this.mutate(tokenHash, async (cart) => {
      if (!shippingRate(this.region(cart).code, methodId)) {
        return refuse(
          "unknown_shipping_method",
          `Shipping method ${methodId} is not offered for this cart.`,
          {
            id: methodId,
          },
        );
      }
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

  /** Inactivity expiry. At-least-once: re-checks the deadline and re-arms if the cart was used since. */
  override async alarm(): Promise<void> {
    await this.exclusive(async () => {
      const cart = this.cartRow();
      if (!cart) return;
      if (cart.expires_at > Date.now()) {
        await this.scheduleAlarm();
        return;
      }
      await this.expire();
    });
  }

  private async expire(): Promise<void> {
    await this.ctx.storage.deleteAll();
    // deleteAll drops the SQLite tables too; recreate them so this instance stays usable.
    migrateCartStorage(this.sql);
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
    return this.exclusive(async () => {
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
    });
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

  private region(cart: CartRow): TaxRegion {
    return TAX_REGIONS[cart.region as keyof typeof TAX_REGIONS];
  }

  private lines(): LineRow[] {
    return this.sql.exec<LineRow>("SELECT * FROM lines ORDER BY created_at, id").toArray();
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

  private deleteLine(line: LineRow): void {
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

  private async scheduleAlarm(): Promise<void> {
    const cart = this.cartRow();
    if (cart) await this.ctx.storage.setAlarm(cart.expires_at);
  }

  /** Prices the cart against D1 right now. */
  private async price(cart: CartRow): Promise<PricedCart> {
    const lines = this.lines();
    const codes = this.promotionCodes();
    const currency = cart.currency as Currency;
    const region = this.region(cart);
    const [catalog, promotionRules] = await Promise.all([
      loadCatalogItems(
        this.env,
        lines.map((line) => line.sku),
        currency,
      ),
      loadPromotionRules(this.env, codes),
    ]);
    return priceCart({
      lines: lines.map((line) => ({
        id: line.id,
        sku: line.sku,
        quantity: line.quantity,
        acknowledgedPrice: line.acknowledged_price,
      })),
      catalog,
      promotionCodes: codes,
      promotionRules,
      shipping: cart.shipping_method ? (shippingRate(region.code, cart.shipping_method) ?? null) : null,
      region,
      now: Date.now(),
    });
  }

  private async render(cart: CartRow): Promise<CartView> {
    const priced = await this.price(cart);
    const currency = cart.currency as Currency;
    const m = (amount: number) => ({ amount, currency });
    const region = this.region(cart);
    const reservations = new Map(this.lines().map((line) => [line.id, line]));
    const method = cart.shipping_method ? shippingRate(region.code, cart.shipping_method) : undefined;
    const shippingMethod = (rate: (typeof SHIPPING_RATES)[keyof typeof SHIPPING_RATES][number]) => ({
      id: rate.id,
      name: rate.name,
      amount: m(rate.amount),
      min_days: rate.min_days,
      max_days: rate.max_days,
    });
    return {
      id: cart.id,
      status: cart.status,
      currency,
      region: region.code,
      email: cart.email,
      shipping_address: cart.shipping_address ? (JSON.parse(cart.shipping_address) as Address) : null,
      shipping_method: method ? shippingMethod(method) : null,
      shipping_methods: SHIPPING_RATES[region.code].map(shippingMethod),
      lines: priced.lines.map((line) => {
        const row = reservations.get(line.id);
        return {
          id: line.id,
          sku: line.sku,
          quantity: line.quantity,
          title: line.item?.title ?? null,
          variant_title: line.item?.variantTitle ?? null,
          unit_price: m(line.unitPrice),
          subtotal: m(line.lineSubtotal),
          discount: m(line.discount),
          tax: m(line.tax),
          total: m(line.total),
          available: line.purchasable,
          price_changed: line.priceChanged
            ? { previous: m(line.priceChanged.previous), current: m(line.priceChanged.current) }
            : null,
          reservation:
            row?.reservation_id && row.reservation_expires_at
              ? { id: row.reservation_id, expires_at: iso(row.reservation_expires_at) }
              : null,
        };
      }),
      promotions: priced.promotions.map((promotion) => ({
        code: promotion.code,
        applied: promotion.applied,
        reason: promotion.reason,
        discount: m(promotion.discount),
      })),
      totals: {
        subtotal: m(priced.subtotal),
        discount: m(priced.discount),
        shipping: m(priced.shipping),
        tax: m(priced.tax),
        total: m(priced.total),
        tax_inclusive: priced.taxInclusive,
      },
      expires_at: iso(cart.expires_at),
      created_at: iso(cart.created_at),
      updated_at: iso(cart.updated_at),
    };
  }
}
