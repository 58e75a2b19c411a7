import type { RegionCode } from "./tax-rates";

/** A flat-rate shipping option offered to carts in a region. Amounts in the region's currency. */
export interface ShippingRate {
  id: string;
  name: string;
  amount: number;
  /** Delivery estimate in business days, shown to the shopper. */
  min_days: number;
  max_days: number;
}

export const SHIPPING_RATES: Record<RegionCode, readonly ShippingRate[]> = {
  US: [
    { id: "us_standard", name: "Standard", amount: 599, min_days: 3, max_days: 5 },
    { id: "us_express", name: "Express", amount: 1999, min_days: 1, max_days: 2 },
  ],
  EU: [
    { id: "eu_standard", name: "Standard", amount: 499, min_days: 3, max_days: 7 },
    { id: "eu_express", name: "Express", amount: 1499, min_days: 1, max_days: 3 },
  ],
  GB: [
    { id: "gb_standard", name: "Standard", amount: 399, min_days: 2, max_days: 4 },
    { id: "gb_next_day", name: "Next day", amount: 999, min_days: 1, max_days: 1 },
  ],
  JP: [
    { id: "jp_standard", name: "Standard", amount: 600, min_days: 2, max_days: 4 },
    { id: "jp_express", name: "Express", amount: 1500, min_days: 1, max_days: 1 },
  ],
};

export function shippingRate(region: RegionCode, id: string): ShippingRate | undefined {
  return SHIPPING_RATES[region].find((rate) => rate.id === id);
}
