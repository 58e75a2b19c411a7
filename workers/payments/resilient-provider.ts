import { CircuitOpenError, type CircuitStateChange, circuitBreaker } from "../lib/circuit-breaker";
import type { DependencySettings } from "../lib/resilience-settings";
import { TimeoutError, withTimeout } from "../lib/timeout";
import {
  type CreatePaymentInput,
  isProviderUnavailable,
  type PaymentProvider,
  PaymentProviderError,
  type PaymentRecord,
  type PaymentSession,
  type RefundInput,
  type RefundResult,
} from "./provider";

/**
 * Only an unreachable or timed-out provider counts against its circuit; refusals prove it is
 * up, and so does a rate-limit answer (429): one busy cart polling too often must not open the
 * circuit, and with it fail every other shopper's checkout.
 */
const isOutage = (error: unknown) =>
  error instanceof TimeoutError || (isProviderUnavailable(error) && !error.rateLimited);

/**
 * A payment provider behind a deadline and the isolate's `payment:<name>` circuit breaker.
 *
 * Every call either answers within `settings.timeoutMs` or fails with `provider_unavailable`;
 * once the circuit is open, calls fail at once (the provider is not contacted) with the wait
 * until the next trial as `retryAfterSeconds`. A timed-out call may still have happened at
 * the provider: callers retry with the same idempotency key, which the provider deduplicates,
 * so a retry never creates a second payment or refund.
 */
export class ResilientPaymentProvider implements PaymentProvider {
  constructor(
    readonly inner: PaymentProvider,
    private readonly settings: DependencySettings,
    private readonly onStateChange?: (change: CircuitStateChange) => void,
  ) {}

  get name() {
    return this.inner.name;
  }

  createPayment(i: CreatePaymentInput, record?: PaymentRecord): Promise<PaymentSession> {
    return this.call(() => this.inner.createPayment(i, record));
  }

  getPayment(paymentId: string): Promise<PaymentSession> {
    return this.call(() => this.inner.getPayment(paymentId));
  }

  cancelPayment(paymentId: string, idempotencyKey: string): Promise<PaymentSession> {
    return this.call(() => this.inner.cancelPayment(paymentId, idempotencyKey));
  }

  refund(i: RefundInput): Promise<RefundResult> {
    return this.call(() => this.inner.refund(i));
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    const { timeoutMs, breaker: breakerSettings } = this.settings;
    const breaker = circuitBreaker(`payment:${this.inner.name}`, breakerSettings);
    try {
      return await breaker.execute(() => withTimeout(`payment provider ${this.name}`, timeoutMs, operation), {
        isFailure: isOutage,
        ...(this.onStateChange ? { onStateChange: this.onStateChange } : {}),
      });
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        throw new PaymentProviderError(
          "provider_unavailable",
          `The payment provider is unavailable (circuit open after repeated failures).`,
          error.retryAfterSeconds,
        );
      }
      if (error instanceof TimeoutError) {
        throw new PaymentProviderError(
          "provider_unavailable",
          `The payment provider did not answer within ${timeoutMs} ms.`,
        );
      }
      throw error;
    }
  }
}
