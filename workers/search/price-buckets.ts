import { CURRENCIES, type Currency } from "../lib/money";

// Upper bounds in major units; a product's "from" price (its cheapest active variant) falls in
// exactly one bucket per currency. JPY prices are ~100× USD numerically, so it gets its own scale.
const MAJOR_BOUNDS: Record<Currency, number[]> = {
  USD: [25, 50, 100, 200, 500],
  EUR: [25, 50, 100, 200, 500],
  GBP: [25, 50, 100, 200, 500],
  JPY: [2500, 5000, 10000, 20000, 50000],
};

export interface PriceBucket {
  /** Stable facet value, `<min>-<max>` in minor units (`max` empty for the open top bucket). */
  key: string;
  min: number;
  /** Exclusive upper bound; null for the top bucket. */
  max: number | null;
}

/** The price buckets shown as a facet for `currency`, lowest first. */
export function priceBuckets(currency: Currency): PriceBucket[] {
  const scale = 10 ** CURRENCIES[currency].exponent;
  const bounds = MAJOR_BOUNDS[currency].map((bound) => bound * scale);
  const out: PriceBucket[] = [];
  let min = 0;
  for (const max of bounds) {
    out.push({ key: `${min}-${max}`, min, max });
    min = max;
  }
  out.push({ key: `${min}-`, min, max: null });
  return out;
}

/** The bucket key a minor-unit amount belongs to. */
export function bucketFor(currency: Currency, amount: number): string {
  const buckets = priceBuckets(currency);
  for (const bucket of buckets) {
    if (bucket.max === null || amount < bucket.max) return bucket.key;
  }
  return buckets[buckets.length - 1]?.key ?? "0-";
}

/** The facet name under which a currency's buckets are stored. */
export const priceFacet = (currency: Currency) => `price:${currency}`;
