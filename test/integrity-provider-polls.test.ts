import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROVIDER_POLL_INTERVAL_MS } from "../workers/checkout/poll-throttle";
import { circuitSnapshot, resetCircuitBreakers } from "../workers/lib/circuit-breaker";
import { paymentProviderFor } from "../workers/payments/provider";
import {
  body,
  type CheckoutBody,
  checkout,
  pollClock,
  readyStripeCart,
  stockedSku,
} from "./checkout-fixtures";
import { type FakeStripe, useFakeStripe } from "./fakes/fake-stripe";
import { call, expectProblem, inOneWindow, providerError, randomIp } from "./helpers";
import type { TestCart } from "./revenue-fixtures";

// wrangler.toml: CHECKOUT_STATUS_RATE_LIMITER allows 60 status reads per 10 s per client.
const STATUS_LIMIT = 60;

const stripeFake = useFakeStripe();
let fake: FakeStripe;

beforeEach(() => {
  fake = stripeFake();
});

afterEach(() => {
  resetCircuitBreakers();
});

const retrieves = (paymentId: string) =>
  fake.requests.filter((r) => r.method === "GET" && r.path === `/v1/payment_intents/${paymentId}`).length;

const status = (cart: TestCart, id: string, headers: Record<string, string> = {}) =>
  call(`/api/checkouts/${id}`, { headers: { ...cart.headers, ...headers } });

async function stripeCheckout(): Promise<{ cart: TestCart; started: CheckoutBody; paymentId: string }> {
  const sku = await stockedSku(5);
  const cart = await readyStripeCart(fake.secretKey, [{ sku, quantity: 1 }]);
  const started = await body(await checkout(cart));
  return { cart, started, paymentId: started.payment?.payment_id ?? "" };
}

describe("provider polls from checkout status reads", () => {
  it("asks Stripe once for 50 status reads within the poll interval, then again after it", async () => {
    const { cart, started, paymentId } = await stripeCheckout();
    const clock = await pollClock(cart);
    for (let i = 0; i < 50; i++) {
      const res = await status(cart, started.id);
      expect(((await body(res)) as CheckoutBody).status).toBe("awaiting_payment");
    }
    expect(retrieves(paymentId)).toBe(1);

    // Paid in the browser, webhook late: the next interval's read finds out from Stripe.
    fake.settle(paymentId, "succeeded");
    clock.advance(PROVIDER_POLL_INTERVAL_MS);
    expect((await body(await status(cart, started.id))).status).toBe("completed");
    expect(retrieves(paymentId)).toBe(2);
  });

  it("keeps 50 concurrent status reads on the real clock to a handful of retrieves", async () => {
    const { cart, started, paymentId } = await stripeCheckout();
    const answers = await Promise.all(Array.from({ length: 50 }, () => status(cart, started.id)));
    for (const res of answers) expect(res.status).toBe(200);
    expect(retrieves(paymentId)).toBeGreaterThanOrEqual(1);
    expect(retrieves(paymentId)).toBeLessThanOrEqual(3);
  });

  it("answers from the stored state when Stripe rate limits the poll", async () => {
    const { cart, started, paymentId } = await stripeCheckout();
    fake.rateLimitNext = 1;
    const res = await status(cart, started.id);
    expect(res.status).toBe(200);
    expect(((await res.json()) as CheckoutBody).status).toBe("awaiting_payment");
    expect(retrieves(paymentId)).toBe(1);
    expect(circuitSnapshot()["payment:stripe"]?.state ?? "closed").toBe("closed");
  });
});

describe("a provider 429 and the payment circuit", () => {
  const stripe = () =>
    paymentProviderFor({
      ...env,
      STRIPE_SECRET_KEY: fake.secretKey,
      PAYMENT_BREAKER_THRESHOLD: "3",
      PAYMENT_BREAKER_COOLDOWN_MS: "60000",
    });

  it("leaves the breaker closed after many 429s, so other checkouts still reach Stripe", async () => {
    const provider = stripe();
    const busy = await provider.createPayment({
      checkoutId: `chk_${crypto.randomUUID()}`,
      cartId: "cart_busy",
      amount: { amount: 1000, currency: "USD" },
      idempotencyKey: crypto.randomUUID(),
    });
    fake.rateLimitNext = 10;
    for (let i = 0; i < 10; i++) {
      const error = await providerError(provider.getPayment(busy.payment_id));
      expect(error).toMatchObject({ code: "provider_unavailable", rateLimited: true });
      expect(error.retryAfterSeconds).toBeGreaterThan(0);
    }
    expect(circuitSnapshot()["payment:stripe"]).toMatchObject({ state: "closed", failures: 0 });

    const other = await provider.createPayment({
      checkoutId: `chk_${crypto.randomUUID()}`,
      cartId: "cart_other",
      amount: { amount: 2500, currency: "USD" },
      idempotencyKey: crypto.randomUUID(),
    });
    expect(other.status).not.toBe("failed");
  });

  it("still opens the breaker on real outages (5xx)", async () => {
    const provider = stripe();
    fake.failNext = 100;
    for (let i = 0; i < 3; i++) await providerError(provider.getPayment("pi_missing"));
    expect(circuitSnapshot()["payment:stripe"]?.state).toBe("open");
  });
});

describe("checkout status rate limit", () => {
  it("answers 429 rate_limited with Retry-After once a client reads too often, other clients unaffected", async () => {
    const { cart, started } = await stripeCheckout();
    const { statuses, limited } = await inOneWindow(10_000, async () => {
      const ip = randomIp();
      const statuses: number[] = [];
      for (let i = 0; i < STATUS_LIMIT; i++) {
        const res = await status(cart, started.id, { "cf-connecting-ip": ip });
        statuses.push(res.status);
        await res.body?.cancel();
      }
      return { statuses, limited: await status(cart, started.id, { "cf-connecting-ip": ip }) };
    });
    expect(statuses).toEqual(Array(STATUS_LIMIT).fill(200));
    expect(limited.headers.get("retry-after")).toBe("10");
    await expectProblem(limited, 429, "rate_limited");
    expect((await status(cart, started.id, { "cf-connecting-ip": randomIp() })).status).toBe(200);
  });
});
