import type { SaleWindow } from "./pages/product";

/** Flash-sale windows of the given SKUs (only SKUs that have one). Wired to inventory's getSkuPolicy on merge. */
export async function saleWindows(_env: Env, _skus: string[]): Promise<Record<string, SaleWindow>> {
  return {};
}
