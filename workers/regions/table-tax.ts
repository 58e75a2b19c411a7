import type { RegionConfig } from "./config";
import { taxOn } from "./tax-math";
import type { TaxCalculation, TaxedAmount, TaxProvider, TaxRequest } from "./tax-provider";
import { rateFor } from "./tax-rate-lookup";

/**
 * Tax from the merchant's tables: each line at its tax class's rate for the location,
 * shipping at the location's standard rate, each rounded half-up per amount (tax-math.ts).
 */
export function tableTax(config: RegionConfig, request: TaxRequest): TaxCalculation {
  const lines = new Map<string, TaxedAmount>();
  for (const line of request.lines) {
    const rate = rateFor(config, request.location, line.taxClass);
    lines.set(line.reference, {
      ...rate,
      taxable: line.amount,
      amount: taxOn(line.amount, rate.rateBp, request.taxInclusive),
    });
  }
  const shippingRate = rateFor(config, request.location, null);
  return {
    provider: "tables",
    reference: null,
    lines,
    shipping: {
      ...shippingRate,
      taxable: request.shipping,
      amount: taxOn(request.shipping, shippingRate.rateBp, request.taxInclusive),
    },
  };
}

export class TableTaxProvider implements TaxProvider {
  readonly name = "tables" as const;
  constructor(private readonly config: RegionConfig) {}
  async calculate(request: TaxRequest): Promise<TaxCalculation> {
    return tableTax(this.config, request);
  }
}
