import { database } from "../../db/client";
import type { CartRow, LineRow } from "../../durable-objects/cart-storage";
import type { Currency } from "../lib/money";
import { loadPromotionRules } from "../promotions/service";
import { regionConfigVersionQuery } from "../regions/config";
import { type CartPricing, priceCartInRegion } from "./cart-pricing";
import { type CatalogItem, catalogItemsFrom, catalogItemsQuery, loadCatalogItems } from "./catalog-prices";
import { cartShippingMethods, taxedParts, taxLines } from "./region-view";
import type { Address, CartView } from "./schemas";

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Prices the cart: catalog prices (from `fresh`, a catalog read in this same call, else D1
 * right now) and promotions from D1, its region's shipping and tax (at checkout, the region
 * snapshot re-checked against D1 and its tax provider).
 */
export async function priceCart(
  env: Env,
  cart: CartRow,
  lines: LineRow[],
  codes: string[],
  options: { checkout?: boolean; fresh?: Map<string, CatalogItem> } = {},
): Promise<CartPricing> {
  const currency = cart.currency as Currency;
  const skus = lines.map((line) => line.sku);
  const { fresh, ...pricingOptions } = options;
  const readCatalog = async (): Promise<{ catalog: Map<string, CatalogItem>; regionVersion?: number }> => {
    if (fresh && skus.every((sku) => fresh.has(sku))) return { catalog: fresh };
    if (!options.checkout || skus.length === 0)
      return { catalog: await loadCatalogItems(env, skus, currency) };
    // Checkout re-checks the region snapshot against D1 too: both reads in one round trip.
    const [rows, version] = await database(env.DB).batch([
      catalogItemsQuery(env, skus, currency),
      regionConfigVersionQuery(env),
    ]);
    return { catalog: catalogItemsFrom(rows), regionVersion: version[0]?.value ?? 0 };
  };
  const [{ catalog, regionVersion }, promotionRules] = await Promise.all([
    readCatalog(),
    loadPromotionRules(env, codes),
  ]);
  return priceCartInRegion(
    env,
    {
      currency,
      regionCode: cart.region,
      address: cart.shipping_address ? (JSON.parse(cart.shipping_address) as Address) : null,
      shippingMethod: cart.shipping_method,
      lines: lines.map((line) => ({
        id: line.id,
        sku: line.sku,
        quantity: line.quantity,
        acknowledgedPrice: line.acknowledged_price,
      })),
      promotionCodes: codes,
      catalog,
      promotionRules,
      now: Date.now(),
    },
    regionVersion === undefined ? pricingOptions : { ...pricingOptions, regionVersion },
  );
}

/** The cart as its API answers it: lines, promotions and totals from `pricing`, holds from `lines`. */
export function cartView(cart: CartRow, lines: LineRow[], pricing: CartPricing): CartView {
  const { priced } = pricing;
  const currency = cart.currency as Currency;
  const m = (amount: number) => ({ amount, currency });
  const reservations = new Map(lines.map((line) => [line.id, line]));
  const methods = cartShippingMethods(pricing, currency);
  return {
    id: cart.id,
    status: cart.status,
    currency,
    region: pricing.region?.code ?? cart.region,
    email: cart.email,
    shipping_address: cart.shipping_address ? (JSON.parse(cart.shipping_address) as Address) : null,
    ...methods,
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
        tax_rate_bp: line.taxRate?.rateBp ?? 0,
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
      tax_lines: taxLines(taxedParts(priced), currency),
    },
    expires_at: iso(cart.expires_at),
    created_at: iso(cart.created_at),
    updated_at: iso(cart.updated_at),
  };
}
