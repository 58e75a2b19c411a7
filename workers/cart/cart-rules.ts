import type { Currency } from "../lib/money";
import type { Region } from "../regions/config";
import { regionForCountry } from "./cart-pricing";
import type { CatalogItem } from "./catalog-prices";
import type { CartRefusal } from "./refusals";
import { type Address, MAX_LINE_QUANTITY, MAX_LINES } from "./schemas";

/**
 * Keeps any one line's subtotal far enough below 2^53 that basis-point maths on a whole
 * cart (50 lines × 10 000 bp) stays exact.
 */
export const MAX_LINE_SUBTOTAL = 10_000_000_000;

const refusal = (reason: CartRefusal["reason"], detail: string, data?: CartRefusal["data"]): CartRefusal => ({
  ok: false,
  reason,
  detail,
  ...(data === undefined ? {} : { data }),
});

/**
 * Why a line of `quantity` units (the line's new total) of `sku` cannot be in the cart, or
 * null. `item` is the catalog's current word on the SKU (absent: unknown); `isNewLine` and
 * `lineCount` bound the number of lines. Shared by add-to-cart and whole-cart creation.
 */
export function lineRefusal(
  sku: string,
  item: CatalogItem | undefined,
  currency: Currency,
  quantity: number,
  lines: { isNewLine: boolean; lineCount: number },
): CartRefusal | null {
  if (!item) return refusal("unknown_sku", `No product variant has SKU ${sku}.`, { sku });
  if (!item.purchasable || item.unitPrice === null) {
    return refusal("sku_unavailable", `${sku} cannot be bought in ${currency}.`, { sku });
  }
  if (quantity > MAX_LINE_QUANTITY) {
    return refusal("quantity_limit_exceeded", `At most ${MAX_LINE_QUANTITY} of one SKU per cart.`, {
      sku,
      max: MAX_LINE_QUANTITY,
    });
  }
  if (lines.isNewLine && lines.lineCount >= MAX_LINES) {
    return refusal("too_many_lines", `A cart holds at most ${MAX_LINES} lines.`, { max: MAX_LINES });
  }
  if (item.unitPrice * quantity > MAX_LINE_SUBTOTAL) {
    return refusal("line_total_too_large", "This line exceeds the largest amount a cart accepts.");
  }
  return null;
}

/**
 * The region a `currency` cart moves to when it ships to `address` (the shipping country decides
 * tax and shipping options), or why it cannot ship there. Shared by address changes and
 * whole-cart creation.
 */
export async function regionForAddress(
  env: Env,
  currency: Currency,
  address: Address,
): Promise<{ ok: true; region: Region } | CartRefusal> {
  const target = await regionForCountry(env, currency, address.country);
  if (target.ok) return target;
  return refusal(
    "address_outside_region",
    `A ${currency} cart ships to ${target.countries.join(", ") || "no country yet"}.`,
    { country: address.country },
  );
}

/** The refusal for a shipping method the cart is not offered. */
export function unknownShippingMethod(methodId: string): CartRefusal {
  return refusal("unknown_shipping_method", `Shipping method ${methodId} is not offered for this cart.`, {
    id: methodId,
  });
}

/** The refusal for a shipping option the cart cannot use, with why (a withdrawn one is unknown). */
export function shippingUnavailable(
  why: "inactive" | "not_offered_to_country" | "too_heavy",
  methodId: string,
  country: string | null,
): CartRefusal {
  if (why === "inactive") return unknownShippingMethod(methodId);
  return refusal(
    "shipping_method_unavailable",
    why === "too_heavy"
      ? `Shipping method ${methodId} does not take a cart this heavy.`
      : `Shipping method ${methodId} does not ship to ${country}.`,
    { id: methodId, why, country },
  );
}
