import type { Region, RegionConfig } from "./config";
import { StripeTaxProvider } from "./stripe-tax-provider";
import { TableTaxProvider } from "./table-tax";
import type { TaxProvider } from "./tax-provider";

/**
 * The provider a region's checkout uses: Stripe Tax when the region asks for it and a
 * Stripe key is configured, else the tables (the offline default, as payments fall back to
 * the test provider without a key).
 */
export function selectTaxProvider(
  env: Env,
  region: Region,
  config: RegionConfig,
  fetchFn?: typeof fetch,
): TaxProvider {
  if (region.taxProvider === "stripe" && env.STRIPE_SECRET_KEY) {
    return new StripeTaxProvider(env.STRIPE_SECRET_KEY, fetchFn);
  }
  return new TableTaxProvider(config);
}
