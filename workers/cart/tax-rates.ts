import type { Currency } from "../lib/money";

export type RegionCode = "US" | "EU" | "GB" | "JP";

/**
 * Selling regions: the currency a cart in the region prices in, where it ships, and how tax
 * works there. EU/GB/JP prices include VAT/consumption tax; US prices exclude sales tax,
 * which is added on top (a flat rate here: a real deployment plugs a tax service in).
 */
export interface TaxRegion {
  code: RegionCode;
  currency: Currency;
  countries: readonly string[];
  taxInclusive: boolean;
  /** Basis points (2000 = 20 %). */
  taxRateBp: number;
}

export const TAX_REGIONS: Record<RegionCode, TaxRegion> = {
  US: { code: "US", currency: "USD", countries: ["US"], taxInclusive: false, taxRateBp: 800 },
  EU: {
    code: "EU",
    currency: "EUR",
    countries: ["AT", "BE", "DE", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PT"],
    taxInclusive: true,
    taxRateBp: 2000,
  },
  GB: { code: "GB", currency: "GBP", countries: ["GB"], taxInclusive: true, taxRateBp: 2000 },
  JP: { code: "JP", currency: "JPY", countries: ["JP"], taxInclusive: true, taxRateBp: 1000 },
};

/** The region a cart in `currency` sells in (one region per currency). */
export function regionForCurrency(currency: Currency): TaxRegion {
  const region = Object.values(TAX_REGIONS).find((r) => r.currency === currency);
  if (!region) throw new Error(`no selling region prices in ${currency}`);
  return region;
}

/**
 * Tax contained in a tax-inclusive `gross` amount: gross − round(gross × 10000 / (10000 + rate)),
 * in integer arithmetic (half-up), so net + tax always equals gross exactly.
 */
export function inclusiveTax(gross: number, rateBp: number): number {
  if (!Number.isSafeInteger(gross) || !Number.isSafeInteger(rateBp))
    throw new Error("inclusiveTax takes integers");
  const divisor = 10_000 + rateBp;
  const net = Math.floor((gross * 10_000 + Math.floor(divisor / 2)) / divisor);
  return gross - net;
}
