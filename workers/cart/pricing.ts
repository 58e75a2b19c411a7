import type { Currency } from "../lib/money";
import { evaluatePromotion, type PromotionIneligibility, type PromotionRule } from "../promotions/rules";
import type { TaxableLine, TaxCalculation, TaxedAmount } from "../regions/tax-provider";
import type { CatalogItem } from "./catalog-prices";

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
  /** The rate and scope the line was taxed at (null until taxed). */
  taxRate: TaxedAmount | null;
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

/** Lines and promotions priced, discounts spread: everything before shipping and tax. */
export interface PricedGoods {
  lines: PricedLine[];
  promotions: PricedPromotion[];
  subtotal: number;
  discount: number;
}

export interface PricedCart extends PricedGoods {
  shipping: number;
  /** The tax on shipping, with its rate. */
  shippingTax: TaxedAmount;
  tax: number;
  total: number;
  taxInclusive: boolean;
  taxProvider: TaxCalculation["provider"];
  taxReference: string | null;
}

/**
 * Prices a cart's goods from catalog items and promotion rules, in integer minor units.
 * Discounts are spread over lines in proportion to their subtotals (largest remainder, so
 * they add up exactly); each line's amount after discount is what shipping thresholds
 * compare and what tax is computed on.
 */
export function priceGoods(input: {
  lines: readonly PricingLine[];
  catalog: ReadonlyMap<string, CatalogItem>;
  promotionCodes: readonly string[];
  promotionRules: ReadonlyMap<string, PromotionRule>;
  currency: Currency;
  now: number;
}): PricedGoods {
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
      taxRate: null,
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
    const evaluation = evaluatePromotion(rule, { subtotal, currency: input.currency, now: input.now });
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
  return { lines, promotions, subtotal, discount };
}

/** The goods as amounts a tax provider taxes: each line after its discount share. */
export function taxableLines(goods: PricedGoods): TaxableLine[] {
  return goods.lines.map((line) => ({
    reference: line.id,
    amount: line.lineSubtotal - line.discount,
    quantity: line.quantity,
    taxClass: line.item?.taxClass ?? null,
  }));
}

/**
 * Adds shipping and a tax calculation to priced goods. Where prices include tax the
 * calculation only reports the tax they contain; where they exclude it, it is added on top.
 */
export function completePricing(
  goods: PricedGoods,
  shipping: number,
  calculation: TaxCalculation,
  taxInclusive: boolean,
): PricedCart {
  const lines = goods.lines.map((line) => {
    const taxed = calculation.lines.get(line.id) ?? null;
    const net = line.lineSubtotal - line.discount;
    const tax = taxed?.amount ?? 0;
    return { ...line, tax, taxRate: taxed, total: taxInclusive ? net : net + tax };
  });
  const tax = lines.reduce((sum, line) => sum + line.tax, 0) + calculation.shipping.amount;
  const total = goods.subtotal - goods.discount + shipping + (taxInclusive ? 0 : tax);
  return {
    ...goods,
    lines,
    shipping,
    shippingTax: calculation.shipping,
    tax,
    total,
    taxInclusive,
    taxProvider: calculation.provider,
    taxReference: calculation.reference,
  };
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
