import { type CartRefusal, refuse } from "../cart/refusals";
import { BoundedMap } from "../lib/bounded-map";
import { rateLimitedDetail } from "../lib/rate-limit";

/** Checkout attempts on one cart, and confirmations of one checkout, allowed per window. */
export const CHECKOUT_ATTEMPTS_PER_WINDOW = 10;
export const CHECKOUT_ATTEMPT_WINDOW_MS = 60_000;

/** What is counted: checkouts started (or replayed) on the cart, and test-card confirmations. */
export type AttemptScope = "checkout" | "confirm";

/**
 * Per-cart abuse limit for starting checkouts and confirming test payments, kept by the cart
 * object itself rather than an edge rate-limiting binding: the single writer counts exactly,
 * worldwide (a binding counts per Cloudflare location), only the token holder's attempts count
 * (a stranger who knows the cart id cannot spend the shopper's budget), and it costs no call of
 * its own. One fixed window per scope, and the scopes are fixed names (not ids a caller could
 * multiply to push a counter out). Held in memory: an evicted object starts counting again,
 * which bounds an attacker to a budget per eviction, as approximate as the binding was.
 */
export class AttemptLimits {
  readonly #windows = new BoundedMap<AttemptScope, { startedAt: number; count: number }>(4);

  constructor(
    private readonly limit = CHECKOUT_ATTEMPTS_PER_WINDOW,
    private readonly windowMs = CHECKOUT_ATTEMPT_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt in `scope`; over the limit, how many seconds until its window ends. */
  take(scope: AttemptScope): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.now();
    const window = this.#windows.get(scope);
    if (!window || now - window.startedAt >= this.windowMs) {
      this.#windows.set(scope, { startedAt: now, count: 1 });
      return { ok: true };
    }
    if (window.count >= this.limit) {
      return {
        ok: false,
        retryAfterSeconds: Math.max(1, Math.ceil((window.startedAt + this.windowMs - now) / 1000)),
      };
    }
    window.count++;
    return { ok: true };
  }
}

/** The refusal over the limit: 429 `rate_limited` with `Retry-After`, as the edge limiters answer. */
export const tooManyAttempts = (retryAfterSeconds: number): CartRefusal =>
  refuse("rate_limited", rateLimitedDetail(retryAfterSeconds), {
    retry_after: retryAfterSeconds,
  });
