import type { Currency, Money } from "../lib/money";
import type { ShippingQuote } from "../regions/shipping-quote";
import type { TaxedAmount } from "../regions/tax-provider";
import type { CartPricing } from "./cart-pricing";
import type { PricedCart } from "./pricing";

export interface ShippingMethodView {
  id: string;
  name: string;
  amount: Money;
  free_over: Money | null;
  min_days: number;
  max_days: number;
}

const methodView = (quote: Extract<ShippingQuote, { ok: true }>, currency: Currency): ShippingMethodView => ({
  id: quote.option.id,
  name: quote.option.name,
  amount: { amount: quote.amount, currency },
  free_over: quote.option.freeOver === null ? null : { amount: quote.option.freeOver, currency },
  min_days: quote.option.minDays,
  max_days: quote.option.maxDays,
});

/** The options this cart can choose (priced for its contents and destination) and the chosen one. */
export function cartShippingMethods(
  pricing: CartPricing,
  currency: Currency,
): { shipping_method: ShippingMethodView | null; shipping_methods: ShippingMethodView[] } {
  const available = pricing.quotes.filter((quote): quote is Extract<ShippingQuote, { ok: true }> => quote.ok);
  const selected = pricing.selected?.ok ? pricing.selected : null;
  return {
    shipping_method: selected ? methodView(selected, currency) : null,
    shipping_methods: available.map((quote) => methodView(quote, currency)),
  };
}

/** The taxed parts of a priced cart: its lines, then shipping. */
export const taxedParts = (priced: PricedCart): TaxedAmount[] => [
  ...priced.lines.flatMap((line) => (line.taxRate ? [line.taxRate] : [])),
  priced.shippingTax,
];

/** Tax grouped by rate, as a receipt shows it ("VAT 19 %: €43.27"). */
export function taxLines(
  taxed: readonly TaxedAmount[],
  currency: Currency,
): { name: string; rate_bp: number; amount: Money }[] {
  const groups = new Map<string, { name: string; rate_bp: number; amount: number }>();
  for (const part of taxed) {
    if (part.rateBp === 0 && part.amount === 0) continue;
    const key = `${part.name}|${part.rateBp}`;
    const group = groups.get(key) ?? { name: part.name, rate_bp: part.rateBp, amount: 0 };
    group.amount += part.amount;
    groups.set(key, group);
  }
  return [...groups.values()].map((group) => ({ ...group, amount: { amount: group.amount, currency } }));
}
