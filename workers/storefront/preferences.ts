import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { CURRENCY_CODES, type Currency, DEFAULT_CURRENCY } from "../lib/money";

/** Shopping regions offered by the switcher; each prices in one currency. */
export const REGIONS = [
  { id: "us", label: "United States (USD $)", currency: "USD" },
  { id: "eu", label: "Europe (EUR €)", currency: "EUR" },
  { id: "gb", label: "United Kingdom (GBP £)", currency: "GBP" },
  { id: "jp", label: "Japan (JPY ¥)", currency: "JPY" },
] as const satisfies readonly { id: string; label: string; currency: Currency }[];

export const CURRENCY_COOKIE = "popcart_currency";
const ONE_YEAR = 60 * 60 * 24 * 365;

const isCurrency = (value: string | undefined): value is Currency =>
  value !== undefined && (CURRENCY_CODES as readonly string[]).includes(value);

/** The shopper's currency: the switcher's cookie, else the store default. */
export function shopperCurrency(c: Context): Currency {
  const chosen = getCookie(c, CURRENCY_COOKIE);
  return isCurrency(chosen) ? chosen : DEFAULT_CURRENCY;
}

/** Persists a currency choice; returns false for anything that is not an offered currency. */
export function rememberCurrency(c: Context, value: string | undefined): boolean {
  if (!isCurrency(value)) return false;
  setCookie(c, CURRENCY_COOKIE, value, {
    path: "/",
    maxAge: ONE_YEAR,
    sameSite: "Lax",
    secure: new URL(c.req.url).protocol === "https:",
  });
  return true;
}
