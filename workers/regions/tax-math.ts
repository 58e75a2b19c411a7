import { applyBasisPoints } from "../lib/money";

/*
 * The rounding rule, in one place: tax is computed per cart line (on the line's amount after
 * its share of discounts) and once on shipping, each rounded half-up to the currency's minor
 * unit; the cart's tax is the sum of those rounded amounts. Rates are integer basis points
 * (1900 = 19 %), so no float ever touches a price.
 */

/**
 * Tax contained in a tax-inclusive `gross` amount: gross − round(gross × 10000 / (10000 + rate)),
 * in integer arithmetic (half-up), so net + tax always equals gross exactly.
 * €266.00 at 19 %: net round(26600 × 10000 / 11900) = 22353, tax 4247 (€42.47).
 */
export function inclusiveTax(gross: number, rateBp: number): number {
  if (!Number.isSafeInteger(gross) || !Number.isSafeInteger(rateBp))
    throw new Error("inclusiveTax takes integers");
  const divisor = 10_000 + rateBp;
  const net = Math.floor((gross * 10_000 + Math.floor(divisor / 2)) / divisor);
  return gross - net;
}

/** Tax added on top of a tax-exclusive `net` amount: round(net × rate / 10000), half-up. */
export const exclusiveTax = (net: number, rateBp: number): number => applyBasisPoints(net, rateBp);

/** Tax on `amount` under the region's pricing convention. */
export const taxOn = (amount: number, rateBp: number, inclusive: boolean): number =>
  inclusive ? inclusiveTax(amount, rateBp) : exclusiveTax(amount, rateBp);

/**
 * A decimal percentage string ("19", "8.875") as basis points, rounded half-up, without floats.
 * Returns null for anything that is not a plain non-negative decimal.
 */
export function percentToBasisPoints(percent: string): number | null {
  const match = /^(\d{1,3})(?:\.(\d+))?$/.exec(percent.trim());
  if (!match) return null;
  const whole = Number(match[1]);
  const fraction = match[2] ?? "";
  const hundredths = Number(fraction.slice(0, 2).padEnd(2, "0"));
  const roundUp = fraction.length > 2 && Number(fraction[2]) >= 5 ? 1 : 0;
  return whole * 100 + hundredths + roundUp;
}
