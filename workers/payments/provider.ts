import { reportCircuitChanges } from "../lib/circuit-reporting";
import type { Money } from "../lib/money";
import { paymentSettings } from "../lib/resilience-settings";
import { paymentConfiguration } from "./configuration";
import { ResilientPaymentProvider } from "./resilient-provider";
import { StripePaymentProvider } from "./stripe-provider";
import { TestPaymentProvider } from "./test-provider";

export type PaymentProviderName = "stripe" | "test";

export type PaymentStatus =
  | "requires_payment_method"
  | "requires_action"
  | "processing"
  | "succeeded"
  | "failed"
  | "canceled";

/** What a client needs to pay, and where the payment stands. Never contains card data. */
export interface PaymentSession {
  provider: PaymentProviderName;
  payment_id: string;
  client_secret: string | null;
  status: PaymentStatus;
  amount: Money;
  next_action?: { type: "redirect" | "use_stripe_sdk"; url?: string };
}

export interface RefundResult {
  refund_id: string;
  amount: Money;
  status: "succeeded" | "pending" | "failed";
}

export interface CreatePaymentInput {
  checkoutId: string;
  cartId: string;
  amount: Money;
  email?: string;
  idempotencyKey: string;
}

/**
 * A D1 write that records a new payment by its id (the checkout index). `createPayment` commits
 * it before it answers: in the payment's own transaction where the provider keeps its payments
 * in this D1 (the test provider: one round trip for both), right after the provider's answer
 * otherwise. A replay runs it again, so it must be idempotent.
 */
export type PaymentRecord = (paymentId: string) => D1PreparedStatement;

export interface RefundInput {
  paymentId: string;
  amount?: Money;
  idempotencyKey: string;
  reason?: string;
}

/** A payment service provider, as the checkout and orders domains see it. */
export interface PaymentProvider {
  readonly name: PaymentProviderName;
  /**
   * Idempotent by `idempotencyKey`: replaying returns the same payment, never a second one.
   * `record`, when given, is committed before this resolves (see `PaymentRecord`).
   */
  createPayment(i: CreatePaymentInput, record?: PaymentRecord): Promise<PaymentSession>;
  getPayment(paymentId: string): Promise<PaymentSession>;
  /** Cancelling an already cancelled payment is a no-op; a succeeded payment stays succeeded. */
  cancelPayment(paymentId: string, idempotencyKey: string): Promise<PaymentSession>;
  /** Full refund when `amount` is omitted, else partial. Refusals throw `PaymentProviderError`. */
  refund(i: RefundInput): Promise<RefundResult>;
}

/**
 * The normalised result of a payment attempt, delivered for Stripe webhooks and for the
 * test provider's confirmation alike. `event_id` is unique per outcome: handlers dedupe on it.
 */
export interface PaymentOutcome {
  event_id: string;
  provider: PaymentProviderName;
  payment_id: string;
  checkout_id: string;
  cart_id: string;
  status: "succeeded" | "failed" | "canceled" | "requires_action";
  amount: Money;
  failure_message?: string;
}

export type PaymentOutcomeHandler = (env: Env, outcome: PaymentOutcome) => Promise<void>;

export type PaymentProviderErrorCode =
  | "payment_not_found"
  | "idempotency_conflict"
  | "amount_too_large"
  | "not_refundable"
  | "invalid_request"
  | "provider_unavailable"
  | "not_configured";

/**
 * A refusal by the provider (unknown payment, over-refund, key reused with other
 * parameters …). Network failures, timeouts, outages and an open circuit use
 * `provider_unavailable`: the same idempotency key may be retried safely, after
 * `retryAfterSeconds` when known.
 */
export class PaymentProviderError extends Error {
  readonly code: PaymentProviderErrorCode;
  readonly retryAfterSeconds: number | undefined;
  /**
   * The provider answered, but refused this account's call for now (Stripe's 429): retry
   * later like an outage, yet the provider is up, so it never counts against the circuit.
   */
  readonly rateLimited: boolean;
  constructor(
    code: PaymentProviderErrorCode,
    message: string,
    retryAfterSeconds?: number,
    options: { rateLimited?: boolean } = {},
  ) {
    super(message);
    this.name = "PaymentProviderError";
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
    this.rateLimited = options.rateLimited ?? false;
  }
}

/** The provider could not be reached in time (or its circuit is open): retry the same key later. */
export const isProviderUnavailable = (error: unknown): error is PaymentProviderError =>
  error instanceof PaymentProviderError && error.code === "provider_unavailable";

/**
 * Idempotency key for a provider call made on behalf of a checkout, e.g.
 * `paymentIdempotencyKey("chk_…", "create")`. Derived, so retries after a timeout reuse it.
 */
export function paymentIdempotencyKey(checkoutId: string, action: "create" | "cancel" | `refund:${string}`) {
  return `popcart:${checkoutId}:${action}`;
}

/**
 * Stripe when `STRIPE_SECRET_KEY` is set, the offline test provider where it is enabled
 * (workers/payments/configuration.ts), else a provider that refuses every call with
 * `not_configured`; behind a deadline and the isolate's `payment:<name>` circuit breaker.
 */
export function paymentProviderFor(env: Env, fetchFn?: typeof fetch): PaymentProvider {
  const settings = paymentSettings(env);
  const configured = paymentConfiguration(env);
  if (!configured.ok) return new UnconfiguredPaymentProvider(configured.reason);
  const provider =
    configured.provider === "stripe"
      ? new StripePaymentProvider(env.STRIPE_SECRET_KEY, fetchFn, { timeoutMs: settings.timeoutMs })
      : new TestPaymentProvider(env);
  return new ResilientPaymentProvider(provider, settings, reportCircuitChanges(env));
}

/** No provider may take money here: every call fails, nothing falls back to test payments. */
class UnconfiguredPaymentProvider implements PaymentProvider {
  readonly name = "stripe" as const;
  constructor(private readonly reason: string) {}
  createPayment(): Promise<PaymentSession> {
    return Promise.reject(this.refuseError());
  }
  getPayment(): Promise<PaymentSession> {
    return Promise.reject(this.refuseError());
  }
  cancelPayment(): Promise<PaymentSession> {
    return Promise.reject(this.refuseError());
  }
  refund(): Promise<RefundResult> {
    return Promise.reject(this.refuseError());
  }
  private refuseError(): PaymentProviderError {
    return new PaymentProviderError("not_configured", this.reason);
  }
}
