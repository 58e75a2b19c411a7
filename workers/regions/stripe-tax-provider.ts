import Stripe from "stripe";
import { percentToBasisPoints } from "./tax-math";
import {
  type TaxCalculation,
  type TaxedAmount,
  type TaxProvider,
  TaxProviderError,
  type TaxRequest,
} from "./tax-provider";

type Breakdown = {
  amount: number;
  jurisdiction: { country: string; state: string | null; display_name: string };
  tax_rate_details: { percentage_decimal: string; display_name: string } | null;
};

/** A product tax class → Stripe tax code; unknown classes use the account's default code. */
const TAX_CODES: Record<string, string> = {
  reduced: "txcd_99999999",
};

/**
 * Tax computed by Stripe Tax (`POST /v1/tax/calculations`) through the official SDK on
 * Workers' fetch. The calculation is read-only on Stripe's side, so retries are safe.
 */
export class StripeTaxProvider implements TaxProvider {
  readonly name = "stripe" as const;
  private readonly stripe: Stripe;

  constructor(secretKey: string, fetchFn: typeof fetch = fetch, options: { timeoutMs?: number } = {}) {
    this.stripe = new Stripe(secretKey, {
      httpClient: Stripe.createFetchHttpClient(fetchFn),
      maxNetworkRetries: 1,
      timeout: options.timeoutMs ?? 4_000,
    });
  }

  async calculate(request: TaxRequest): Promise<TaxCalculation> {
    const behavior = request.taxInclusive ? "inclusive" : "exclusive";
    // Stripe refuses zero-amount lines; a fully discounted line owes no tax anyway.
    const taxable = request.lines.filter((line) => line.amount > 0);
    const address = request.address;
    let calculation: Stripe.Tax.Calculation;
    try {
      calculation = await this.stripe.tax.calculations.create({
        currency: request.currency.toLowerCase(),
        line_items: taxable.map((line) => ({
          amount: line.amount,
          quantity: line.quantity,
          reference: line.reference,
          tax_behavior: behavior,
          ...(line.taxClass && TAX_CODES[line.taxClass] ? { tax_code: TAX_CODES[line.taxClass] } : {}),
        })),
        customer_details: {
          address: {
            country: request.location.country,
            ...(request.location.subdivision ? { state: request.location.subdivision } : {}),
            ...(address
              ? { line1: address.line1, city: address.city, postal_code: address.postal_code }
              : {}),
          },
          address_source: "shipping",
        },
        ...(request.shipping > 0
          ? { shipping_cost: { amount: request.shipping, tax_behavior: behavior } }
          : {}),
        expand: ["line_items"],
      });
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError)
        throw new TaxProviderError(error.message, false);
      if (error instanceof Stripe.errors.StripeError) throw new TaxProviderError(error.message, true);
      throw error;
    }
    const lines = new Map<string, TaxedAmount>();
    for (const line of request.lines) {
      const item = calculation.line_items?.data.find((candidate) => candidate.reference === line.reference);
      lines.set(
        line.reference,
        taxed(
          request,
          line.amount,
          item?.amount_tax ?? 0,
          (item?.tax_breakdown ?? []) as Breakdown[],
          line.taxClass ?? "",
        ),
      );
    }
    const shipping = calculation.shipping_cost;
    return {
      provider: "stripe",
      reference: calculation.id ?? null,
      lines,
      shipping: taxed(
        request,
        request.shipping,
        shipping?.amount_tax ?? 0,
        (shipping?.tax_breakdown ?? []) as Breakdown[],
        "",
      ),
    };
  }
}

/** One taxed amount from Stripe's breakdown: the summed rate of every jurisdiction that taxed it. */
function taxed(
  request: TaxRequest,
  taxable: number,
  amount: number,
  breakdown: Breakdown[],
  taxClass: string,
): TaxedAmount {
  const imposed = breakdown.filter((part) => part.tax_rate_details !== null && part.amount > 0);
  const rateBp = imposed.reduce(
    (sum, part) => sum + (percentToBasisPoints(part.tax_rate_details?.percentage_decimal ?? "0") ?? 0),
    0,
  );
  return {
    rateBp,
    name: imposed.map((part) => part.tax_rate_details?.display_name ?? "Tax").join(" + ") || "No tax",
    country: imposed[0]?.jurisdiction.country ?? request.location.country,
    subdivision:
      imposed.find((part) => part.jurisdiction.state)?.jurisdiction.state ?? request.location.subdivision,
    taxClass,
    taxable,
    amount,
  };
}
