import { applyBasisPoints } from "../lib/money";
import { evaluatePromotion, type PromotionIneligibility, type PromotionRule } from "../promotions/rules";
import type { CatalogItem } from "./catalog-prices";
import type { ShippingRate } from "./shipping-rates";
import { inclusiveTax, type TaxRegion } from "./tax-rates";

export interface PricingLine {
  id: string;
  sku: string;
  quantity: number;
  /** The unit price the shopper last saw for this line. */
  acknowledgedPrice: number;
}

export interface PricedLine {
  id: string;
  sku: string;
  quantity: number;
  item: CatalogItem | null;
  /** Current authoritative unit price (0 when the line cannot be bought). */
  unitPrice: number;
  /** unit price × quantity, before discounts. */
  lineSubtotal: number;
  discount: number;
  tax: number;
  /** What the line costs the shopper: subtotal − discount (+ tax where prices exclude it). */
  total: number;
  purchasable: boolean;
  priceChanged: { previous: number; current: number } | null;
}

export interface PricedPromotion {
  code: string;
  promotionId: string | null;
  applied: boolean;
  reason: PromotionIneligibility | "unknown_code" | null;
  discount: number;
}

export interface PricedCart {
  lines: PricedLine[];
  promotions: PricedPromotion[];
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  total: number;
  taxInclusive: boolean;
}

/**
 * Prices a cart from catalog items, promotion rules, a shipping rate and a tax region, in
 * integer minor units only. Discounts are spread over lines in proportion to their
 * subtotals (largest remainder, so they add up exactly); tax is computed per line and on
 * shipping, so order lines carry their own tax snapshot and the parts sum to the totals.
 */
export function priceCart(input: {
  lines: readonly PricingLine[];
  catalog: ReadonlyMap<string, CatalogItem>;
  promotionCodes: readonly string[];
  promotionRules: ReadonlyMap<string, PromotionRule>;
  shipping: ShippingRate | null;
  region: TaxRegion;
  now: number;
}): PricedCart {
  const { region } = input;
  const lines = input.lines.map((line) => {
    const item = input.catalog.get(line.sku) ?? null;
    const purchasable = item?.purchasable === true;
    const unitPrice = purchasable ? (item?.unitPrice ?? 0) : 0;
    return {
      id: line.id,
      sku: line.sku,
      quantity: line.quantity,
      item,
      unitPrice,
      lineSubtotal: unitPrice * line.quantity,
      discount: 0,
      tax: 0,
      total: 0,
      purchasable,
      priceChanged:
        purchasable && unitPrice !== line.acknowledgedPrice
          ? { previous: line.acknowledgedPrice, current: unitPrice }
          : null,
    } satisfies PricedLine;
  });
  const subtotal = lines.reduce((sum, line) => sum + line.lineSubtotal, 0);

  let remaining = subtotal;
  const promotions = input.promotionCodes.map((code): PricedPromotion => {
    const rule = input.promotionRules.get(code);
    if (!rule) return { code, promotionId: null, applied: false, reason: "unknown_code", discount: 0 };
    const evaluation = evaluatePromotion(rule, { subtotal, currency: region.currency, now: input.now });
    if (!evaluation.applies) {
      return { code, promotionId: rule.id, applied: false, reason: evaluation.reason, discount: 0 };
    }
    // Stacked codes never take the subtotal below zero.
    const discount = Math.min(evaluation.discount, remaining);
    remaining -= discount;
    return { code, promotionId: rule.id, applied: true, reason: null, discount };
  });
  const discount = subtotal - remaining;
  allocate(discount, lines);

  for (const line of lines) {
    const net = line.lineSubtotal - line.discount;
    line.tax = region.taxInclusive
      ? inclusiveTax(net, region.taxRateBp)
      : applyBasisPoints(net, region.taxRateBp);
    line.total = region.taxInclusive ? net : net + line.tax;
  }
  const shipping = input.shipping?.amount ?? 0;
  const shippingTax = region.taxInclusive
    ? inclusiveTax(shipping, region.taxRateBp)
    : applyBasisPoints(shipping, region.taxRateBp);
  const tax = lines.reduce((sum, line) => sum + line.tax, 0) + shippingTax;
  const total = subtotal - discount + shipping + (region.taxInclusive ? 0 : tax);
  return { lines, promotions, subtotal, discount, shipping, tax, total, taxInclusive: region.taxInclusive };
}

/** Largest-remainder split of `amount` over lines in proportion to their subtotals. */
function allocate(amount: number, lines: PricedLine[]): void {
  const base = lines.reduce((sum, line) => sum + line.lineSubtotal, 0);
  if (amount === 0 || base === 0) return;
  let given = 0;
  const remainders = lines.map((line, index) => {
    // BigInt: lineSubtotal × amount can exceed 2^53 for large carts.
    const exact = BigInt(line.lineSubtotal) * BigInt(amount);
    const share = Number(exact / BigInt(base));
    line.discount = share;
    given += share;
    return { index, remainder: exact % BigInt(base) };
  });
  remainders.sort((a, b) =>
    a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1,
  );
  for (let i = 0; given < amount; i++) {
    const target = lines[remainders[i % remainders.length]?.index ?? 0];
    if (target && target.discount < target.lineSubtotal) {
      target.discount += 1;
      given += 1;
    }
  }
}
