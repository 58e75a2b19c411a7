import Stripe from "stripe";
import { CURRENCIES, type Currency, type Money } from "../lib/money";
import {
  type CreatePaymentInput,
  type PaymentProvider,
  PaymentProviderError,
  type PaymentRecord,
  type PaymentSession,
  type PaymentStatus,
  type RefundInput,
  type RefundResult,
} from "./provider";

/** Stripe wants lower-case ISO codes; Popcart speaks upper-case ones. */
export function moneyFromStripe(amount: number, currency: string): Money | null {
  const code = currency.toUpperCase();
  return code in CURRENCIES ? { amount, currency: code as Currency } : null;
}

function statusOf(intent: Stripe.PaymentIntent): PaymentStatus {
  switch (intent.status) {
    case "succeeded":
      return "succeeded";
    case "processing":
      return "processing";
    case "requires_action":
      return "requires_action";
    case "canceled":
      return "canceled";
    // Automatic capture is used, so an uncaptured intent is only a transient state.
    case "requires_capture":
      return "processing";
    case "requires_payment_method":
      // Stripe returns a declined intent to requires_payment_method with the error attached.
      return intent.last_payment_error ? "failed" : "requires_payment_method";
    default:
      return "requires_payment_method";
  }
}

/** Maps a PaymentIntent onto Popcart's provider-neutral session. */
export function sessionFromIntent(intent: Stripe.PaymentIntent): PaymentSession {
  const amount = moneyFromStripe(intent.amount, intent.currency);
  if (!amount) throw new PaymentProviderError("invalid_request", `unsupported currency ${intent.currency}`);
  const session: PaymentSession = {
    provider: "stripe",
    payment_id: intent.id,
    client_secret: intent.client_secret,
    status: statusOf(intent),
    amount,
  };
  if (intent.status === "requires_action" && intent.next_action) {
    const redirect = intent.next_action.redirect_to_url?.url;
    session.next_action = redirect ? { type: "redirect", url: redirect } : { type: "use_stripe_sdk" };
  }
  return session;
}

/** Stripe sends no Retry-After with a 429; its guidance is a short back-off. */
const STRIPE_RATE_LIMIT_RETRY_SECONDS = 2;

/** Turns the SDK's exceptions into provider refusals the domains can map to problems. */
function translate(error: unknown): never {
  if (error instanceof Stripe.errors.StripeIdempotencyError) {
    throw new PaymentProviderError("idempotency_conflict", error.message);
  }
  if (error instanceof Stripe.errors.StripeInvalidRequestError) {
    if (error.code === "resource_missing") throw new PaymentProviderError("payment_not_found", error.message);
    if (error.code === "amount_too_large" || error.code === "charge_already_refunded") {
      throw new PaymentProviderError("amount_too_large", error.message);
    }
    if (error.code === "charge_disputed" || error.code === "payment_intent_unexpected_state") {
      throw new PaymentProviderError("not_refundable", error.message);
    }
    throw new PaymentProviderError("invalid_request", error.message);
  }
  if (error instanceof Stripe.errors.StripeRateLimitError) {
    // Too many requests for this account: retry shortly, but Stripe is up (circuit stays closed).
    throw new PaymentProviderError("provider_unavailable", error.message, STRIPE_RATE_LIMIT_RETRY_SECONDS, {
      rateLimited: true,
    });
  }
  if (error instanceof Stripe.errors.StripeError) {
    throw new PaymentProviderError("provider_unavailable", error.message);
  }
  throw error;
}

/** The SDK's first retry waits `INITIAL_NETWORK_RETRY_DELAY_SEC` (0.5 s, jitter never shortens it). */
const STRIPE_FIRST_RETRY_DELAY_MS = 500;

const REFUND_REASONS = new Set(["duplicate", "fraudulent", "requested_by_customer"]);

/**
 * PaymentIntents through the official SDK on Workers' fetch. Every mutating call carries an
 * idempotency key derived from the checkout, so the SDK's retries and ours never double-charge.
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly name = "stripe" as const;
  private readonly stripe: Stripe;

  /**
   * `timeoutMs` bounds a whole call: the SDK gets one retry (network errors, 409, 5xx; safe
   * because every mutating call carries an idempotency key) and half of what is left after
   * the SDK's first back-off (0.5 s) per attempt, so both attempts fit in the budget.
   */
  constructor(secretKey: string, fetchFn: typeof fetch = fetch, options: { timeoutMs?: number } = {}) {
    const budget = options.timeoutMs ?? 8_000;
    this.stripe = new Stripe(secretKey, {
      httpClient: Stripe.createFetchHttpClient(fetchFn),
      maxNetworkRetries: 1,
      timeout: Math.max(500, Math.floor((budget - STRIPE_FIRST_RETRY_DELAY_MS) / 2)),
    });
  }

  async createPayment(i: CreatePaymentInput, record?: PaymentRecord): Promise<PaymentSession> {
    const session = await this.createIntent(i);
    // Stripe keeps the payment; the record is ours, written once Stripe has answered.
    if (record) await record(session.payment_id).run();
    return session;
  }

  private async createIntent(i: CreatePaymentInput): Promise<PaymentSession> {
    try {
      const intent = await this.stripe.paymentIntents.create(
        {
          amount: i.amount.amount,
          currency: i.amount.currency.toLowerCase(),
          automatic_payment_methods: { enabled: true },
          // `source` marks Popcart's payments for people reading the Stripe dashboard.
          metadata: { checkout_id: i.checkoutId, cart_id: i.cartId, source: "popcart" },
          ...(i.email ? { receipt_email: i.email } : {}),
        },
        { idempotencyKey: i.idempotencyKey },
      );
      return sessionFromIntent(intent);
    } catch (error) {
      translate(error);
    }
  }

  async getPayment(paymentId: string): Promise<PaymentSession> {
    try {
      return sessionFromIntent(await this.stripe.paymentIntents.retrieve(paymentId));
    } catch (error) {
      translate(error);
    }
  }

  async cancelPayment(paymentId: string, idempotencyKey: string): Promise<PaymentSession> {
    try {
      return sessionFromIntent(await this.stripe.paymentIntents.cancel(paymentId, {}, { idempotencyKey }));
    } catch (error) {
      // Already cancelled or already succeeded: report where the payment stands instead.
      if (
        error instanceof Stripe.errors.StripeInvalidRequestError &&
        error.code === "payment_intent_unexpected_state"
      ) {
        return this.getPayment(paymentId);
      }
      translate(error);
    }
  }

  async refund(i: RefundInput): Promise<RefundResult> {
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: i.paymentId,
          ...(i.amount ? { amount: i.amount.amount } : {}),
          ...(i.reason && REFUND_REASONS.has(i.reason)
            ? { reason: i.reason as "duplicate" | "fraudulent" | "requested_by_customer" }
            : {}),
          ...(i.reason ? { metadata: { reason: i.reason.slice(0, 500) } } : {}),
        },
        { idempotencyKey: i.idempotencyKey },
      );
      const amount = moneyFromStripe(refund.amount, refund.currency);
      if (!amount)
        throw new PaymentProviderError("invalid_request", `unsupported currency ${refund.currency}`);
      const status =
        refund.status === "succeeded"
          ? "succeeded"
          : refund.status === "failed" || refund.status === "canceled"
            ? "failed"
            : "pending";
      return { refund_id: refund.id, amount, status };
    } catch (error) {
      translate(error);
    }
  }
}
