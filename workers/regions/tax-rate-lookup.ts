import { type RegionConfig, type TaxRate, taxRateKey } from "./config";

/** Where tax is owed: a country, and the ISO 3166-2 subdivision code ("CA", "NY") or ''. */
export interface TaxLocation {
  country: string;
  subdivision: string;
}

/** A resolved rate: what applies, and the scope it came from (recorded on the order). */
export interface AppliedRate {
  rateBp: number;
  name: string;
  country: string;
  subdivision: string;
  taxClass: string;
}

/**
 * The subdivision code of an address's free-text `region`: upper-cased, without a
 * country prefix ("us-ca" → "CA"). Names ("California") match nothing and fall back to the
 * country-wide rate, which the README tells merchants.
 */
export function subdivisionOf(country: string, region: string | undefined | null): string {
  const code = (region ?? "").trim().toUpperCase();
  return code.startsWith(`${country}-`) ? code.slice(country.length + 1) : code;
}

/**
 * The rate for a product tax class at a location, most specific first: subdivision + class,
 * subdivision, country + class, country. No row at all means no tax is collected there
 * (e.g. a US state where the merchant has no nexus).
 */
export function rateFor(config: RegionConfig, location: TaxLocation, taxClass: string | null): AppliedRate {
  const cls = taxClass ?? "";
  const candidates: [string, string][] = [
    ...(location.subdivision
      ? ([
          [location.subdivision, cls],
          [location.subdivision, ""],
        ] as [string, string][])
      : []),
    ["", cls],
    ["", ""],
  ];
  for (const [subdivision, candidateClass] of candidates) {
    const rate: TaxRate | undefined = config.taxRates.get(
      taxRateKey(location.country, subdivision, candidateClass),
    );
    if (rate) {
      return {
        rateBp: rate.rateBp,
        name: rate.name,
        country: rate.country,
        subdivision: rate.subdivision,
        taxClass: rate.taxClass,
      };
    }
  }
  return {
    rateBp: 0,
    name: "No tax",
    country: location.country,
    subdivision: location.subdivision,
    taxClass: "",
  };
}
