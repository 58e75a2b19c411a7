import type { CartRefusal } from "../../durable-objects/cart";
import type { Currency } from "../lib/money";
import type { CatalogItem } from "./catalog-prices";
import { type Address, MAX_LINE_QUANTITY, MAX_LINES } from "./schemas";
import { shippingRate } from "./shipping-rates";
import type { TaxRegion } from "./tax-rates";

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

/** Why a cart in `region` cannot ship to `address`, or null. */
export function addressRefusal(region: TaxRegion, currency: Currency, address: Address): CartRefusal | null {
  if (region.countries.includes(address.country)) return null;
  return refusal("address_outside_region", `A ${currency} cart ships to ${region.countries.join(", ")}.`, {
    country: address.country,
  });
}

/** Why `methodId` is not a shipping method of `region`, or null. */
export function shippingMethodRefusal(region: TaxRegion, methodId: string): CartRefusal | null {
  if (shippingRate(region.code, methodId)) return null;
  return refusal("unknown_shipping_method", `Shipping method ${methodId} is not offered for this cart.`, {
    id: methodId,
  });
}
