import type { TaxProviderName } from "../../db/schema";
import type { Address } from "../cart/schemas";
import type { Currency } from "../lib/money";
import type { AppliedRate, TaxLocation } from "./tax-rate-lookup";

/** One amount to tax: a cart line after its discount share, in the region's pricing convention. */
export interface TaxableLine {
  reference: string;
  amount: number;
  quantity: number;
  taxClass: string | null;
}

export interface TaxRequest {
  currency: Currency;
  taxInclusive: boolean;
  location: TaxLocation;
  /** The shipping address when the cart has one (Stripe Tax needs it; the tables need only the location). */
  address: Address | null;
  lines: readonly TaxableLine[];
  shipping: number;
}

/** The tax on one amount, with the rate and scope it was computed at. */
export interface TaxedAmount extends AppliedRate {
  taxable: number;
  amount: number;
}

export interface TaxCalculation {
  provider: TaxProviderName;
  /** The provider's id for this calculation (Stripe `taxcalc_…`), null for the tables. */
  reference: string | null;
  lines: ReadonlyMap<string, TaxedAmount>;
  shipping: TaxedAmount;
}

/** Computes tax for a cart at checkout. The built-in tables are the offline default. */
export interface TaxProvider {
  readonly name: TaxProviderName;
  calculate(request: TaxRequest): Promise<TaxCalculation>;
}

/**
 * The provider could not compute tax. `retryable`: it did not answer (network, timeout, 5xx)
 * and the same checkout may be retried; otherwise it refused the request (e.g. an address it
 * cannot tax) and the shopper has to change something.
 */
export class TaxProviderError extends Error {
  readonly retryable: boolean;
  readonly retryAfterSeconds = 5;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = "TaxProviderError";
    this.retryable = retryable;
  }
}
