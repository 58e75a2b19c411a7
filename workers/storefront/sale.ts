import { getSkuPolicy } from "../inventory/service";
import type { SaleWindow } from "./pages/product";

/**
 * Catalog attribute marking a flash-sale product (the demo seed sets it on its sale product).
 * Sale policies live in the inventory objects, so only tagged products pay for the lookups.
 */
export const FLASH_SALE_ATTRIBUTE = { name: "collection", value: "flash-sale" } as const;

interface SaleCandidate {
  attributes: { name: string; value: string }[];
  variants: { sku: string }[];
}

/**
 * Flash-sale windows per SKU of a tagged product, through inventory's `getSkuPolicy` (one
 * object call per variant). Product pages are cached for a minute, which bounds both the
 * calls and how stale a countdown can be after an admin moves the window.
 */
export async function saleWindows(env: Env, product: SaleCandidate): Promise<Record<string, SaleWindow>> {
  const tagged = product.attributes.some(
    (a) => a.name === FLASH_SALE_ATTRIBUTE.name && a.value === FLASH_SALE_ATTRIBUTE.value,
  );
  if (!tagged) return {};
  const policies = await Promise.all(
    product.variants.map(async (v) => [v.sku, await getSkuPolicy(env, v.sku)] as const),
  );
  const windows: Record<string, SaleWindow> = {};
  for (const [sku, policy] of policies) {
    const flash =
      policy.sale_starts_at || policy.sale_ends_at || policy.reserve_on_add_to_cart || policy.waiting_room;
    if (!flash) continue;
    windows[sku] = {
      starts_at: policy.sale_starts_at,
      ends_at: policy.sale_ends_at,
      reserve_on_add_to_cart: policy.reserve_on_add_to_cart,
      waiting_room: policy.waiting_room,
    };
  }
  return windows;
}
