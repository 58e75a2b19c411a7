import { z } from "@hono/zod-openapi";

/**
 * Currencies Popcart prices in, with their ISO 4217 minor-unit exponent. Amounts are
 * always integers in minor units (cents for USD, yen for JPY): never floats.
 */
export const CURRENCIES = {
  USD: { exponent: 2 },
  EUR: { exponent: 2 },
  GBP: { exponent: 2 },
  JPY: { exponent: 0 },
} as const satisfies Record<string, { exponent: number }>;

export type Currency = keyof typeof CURRENCIES;
export const CURRENCY_CODES = Object.keys(CURRENCIES) as [Currency, ...Currency[]];
export const DEFAULT_CURRENCY: Currency = "USD";

/** Largest amount accepted anywhere (10^12 minor units), far below 2^53 so sums stay exact. */
export const MAX_AMOUNT = 1_000_000_000_000;

export const CurrencySchema = z
  .enum(CURRENCY_CODES)
  .openapi({ description: "ISO 4217 currency code", example: "USD" });

export const AmountSchema = z
  .number()
  .int()
  .min(0)
  .max(MAX_AMOUNT)
  .openapi({ description: "Integer amount in the currency's minor units", example: 1999 });

export const MoneySchema = z
  .object({ amount: AmountSchema, currency: CurrencySchema })
  .openapi("Money", { example: { amount: 1999, currency: "USD" } });

export type Money = z.infer<typeof MoneySchema>;

export const money = (amount: number, currency: Currency): Money => {
  if (!Number.isSafeInteger(amount)) throw new Error(`money amount must be an integer, got ${amount}`);
  return { amount, currency };
};

/**
 * `amount × basisPoints / 10 000`, rounded half-up in integer arithmetic. Used for
 * percentage discounts and tax rates so no float ever touches a price.
 */
export function applyBasisPoints(amount: number, basisPoints: number): number {
  if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(basisPoints)) {
    throw new Error("applyBasisPoints takes integers");
  }
  return Math.floor((amount * basisPoints + 5_000) / 10_000);
}

/** Formats minor units for humans without floats, e.g. `formatMoney({amount: 1999, currency: "USD"})` → `$19.99`. */
export function formatMoney({ amount, currency }: Money, locale = "en-US"): string {
  const { exponent } = CURRENCIES[currency];
  const divisor = 10 ** exponent;
  const major = Math.trunc(amount / divisor);
  const minor = Math.abs(amount % divisor);
  const formatter = new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  });
  // Format the exact decimal string rather than a float: Intl accepts numeric strings.
  const decimal = exponent === 0 ? `${major}` : `${major}.${String(minor).padStart(exponent, "0")}`;
  return formatter.format(decimal as unknown as number);
}
