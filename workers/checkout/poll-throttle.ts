import { BoundedMap } from "../lib/bounded-map";

/**
 * How long a provider answer about a checkout's payment stands in for a new one. A shopper's
 * page polls `GET /api/checkouts/{id}` every second or two; the webhook is the fast path, so a
 * poll only needs to catch a payment whose webhook is late, and a few seconds is plenty.
 */
export const PROVIDER_POLL_INTERVAL_MS = 3_000;

/**
 * Per-checkout throttle for provider polls, kept by the cart object (one per cart, so it only
 * ever sees that cart's few checkouts). Between polls the checkout's stored state, which the
 * last answer updated, is the answer: 50 status reads cost one provider retrieve, not 50, and
 * a few carts cannot spend the shop's provider rate limit. Held in memory: an evicted object
 * just polls once more.
 */
export class ProviderPollThrottle {
  readonly #lastPoll = new BoundedMap<string, number>(32);

  constructor(
    private readonly intervalMs = PROVIDER_POLL_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `checkoutId` may ask the provider now; a yes counts as its poll (even if it fails). */
  take(checkoutId: string): boolean {
    const now = this.now();
    const last = this.#lastPoll.get(checkoutId);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.#lastPoll.set(checkoutId, now);
    return true;
  }
}
