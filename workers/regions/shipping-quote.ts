import type { ShippingOption } from "./config";

/** What the cart offers a shipping option for, at its current contents and destination. */
export interface ShippingContext {
  /** Destination country; null before the cart has an address (every region option is shown). */
  country: string | null;
  /** Goods after discounts (before tax where prices exclude it): what a free-over threshold compares. */
  goodsTotal: number;
  /** Sum of variant weights × quantities; variants without a weight count as 0 g. */
  weightGrams: number;
}

export type ShippingQuote =
  | { ok: true; option: ShippingOption; amount: number; free: boolean }
  | { ok: false; option: ShippingOption; reason: "inactive" | "not_offered_to_country" | "too_heavy" };

/**
 * Prices an option for a cart. Flat options cost their amount; weight-band options cost the
 * first band (ascending) whose `max_grams` the cart's weight does not exceed, and are not
 * offered beyond the last band. Either becomes free once `goodsTotal` reaches `free_over`.
 */
export function quoteShipping(option: ShippingOption, context: ShippingContext): ShippingQuote {
  if (!option.active) return { ok: false, option, reason: "inactive" };
  if (context.country !== null && option.countries !== null && !option.countries.includes(context.country)) {
    return { ok: false, option, reason: "not_offered_to_country" };
  }
  let amount: number;
  if (option.priceType === "weight_bands") {
    const band = (option.weightBands ?? []).find((candidate) => context.weightGrams <= candidate.max_grams);
    if (!band) return { ok: false, option, reason: "too_heavy" };
    amount = band.amount;
  } else {
    amount = option.amount ?? 0;
  }
  const free = option.freeOver !== null && context.goodsTotal >= option.freeOver;
  return { ok: true, option, amount: free ? 0 : amount, free };
}
