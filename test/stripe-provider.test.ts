import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { paymentIdempotencyKey, paymentProviderFor } from "../workers/payments/provider";
import { StripePaymentProvider } from "../workers/payments/stripe-provider";
import { FakeStripe } from "./fakes/fake-stripe";
import { providerError } from "./helpers";

const usd = (amount: number) => ({ amount, currency: "USD" as const });

function setup() {
  const fake = new FakeStripe();
  const provider = new StripePaymentProvider(fake.secretKey, fake.fetch);
  const checkoutId = `chk_${crypto.randomUUID()}`;
  return { fake, provider, checkoutId };
}

describe("Stripe payment provider (against a fake Stripe API)", () => {
  it("creates a PaymentIntent with automatic payment methods, checkout metadata and the idempotency key", async () => {
    const { fake, provider, checkoutId } = setup();
    const session = await provider.createPayment({
      checkoutId,
      cartId: "cart_1",
      amount: usd(2599),
      email: "a@example.com",
      idempotencyKey: paymentIdempotencyKey(checkoutId, "create"),
    });
    expect(session).toMatchObject({
      provider: "stripe",
      status: "requires_payment_method",
      amount: usd(2599),
    });
    expect(session.client_secret).toMatch(/^pi_.+_secret_/);
    const [request] = fake.requests;
    expect(request?.idempotencyKey).toBe(`popcart:${checkoutId}:create`);
    expect(request?.params).toMatchObject({
      amount: "2599",
      currency: "usd",
      automatic_payment_methods: { enabled: "true" },
      metadata: { checkout_id: checkoutId, cart_id: "cart_1" },
      receipt_email: "a@example.com",
    });
  });

  it("returns the same intent when a create is replayed with its key, and refuses the key with other parameters", async () => {
    const { fake, provider, checkoutId } = setup();
    const input = { checkoutId, cartId: "cart_1", amount: usd(1000), idempotencyKey: `k-${checkoutId}` };
    const first = await provider.createPayment(input);
    const again = await provider.createPayment(input);
    expect(again.payment_id).toBe(first.payment_id);
    expect(fake.intents.size).toBe(1);
    const error = await providerError(provider.createPayment({ ...input, amount: usd(1001) }));
    expect(error.code).toBe("idempotency_conflict");
  });

  it("retries a failed create with the same idempotency key and creates exactly one intent", async () => {
    const { fake, provider, checkoutId } = setup();
    fake.failNext = 1;
    const session = await provider.createPayment({
      checkoutId,
      cartId: "cart_1",
      amount: usd(500),
      idempotencyKey: `k-${checkoutId}`,
    });
    expect(fake.requests).toHaveLength(2);
    expect(new Set(fake.requests.map((r) => r.idempotencyKey))).toEqual(new Set([`k-${checkoutId}`]));
    expect(fake.intents.size).toBe(1);
    expect(fake.intents.has(session.payment_id)).toBe(true);
  });

  it("maps intent states: requires_action carries a next action, a declined intent reads as failed", async () => {
    const { fake, provider, checkoutId } = setup();
    const { payment_id } = await provider.createPayment({
      checkoutId,
      cartId: "c",
      amount: usd(700),
      idempotencyKey: checkoutId,
    });
    fake.settle(payment_id, "requires_action");
    expect(await provider.getPayment(payment_id)).toMatchObject({
      status: "requires_action",
      next_action: { type: "use_stripe_sdk" },
    });
    fake.settle(payment_id, "failed");
    expect((await provider.getPayment(payment_id)).status).toBe("failed");
    fake.settle(payment_id, "succeeded");
    expect((await provider.getPayment(payment_id)).status).toBe("succeeded");
    expect((await providerError(provider.getPayment("pi_missing"))).code).toBe("payment_not_found");
  });

  it("cancels an open intent idempotently and leaves a succeeded one succeeded", async () => {
    const { fake, provider, checkoutId } = setup();
    const open = await provider.createPayment({
      checkoutId,
      cartId: "c",
      amount: usd(100),
      idempotencyKey: `${checkoutId}:a`,
    });
    expect((await provider.cancelPayment(open.payment_id, `${checkoutId}:cancel`)).status).toBe("canceled");
    expect((await provider.cancelPayment(open.payment_id, `${checkoutId}:cancel-2`)).status).toBe("canceled");
    const paid = await provider.createPayment({
      checkoutId,
      cartId: "c",
      amount: usd(100),
      idempotencyKey: `${checkoutId}:b`,
    });
    fake.settle(paid.payment_id, "succeeded");
    expect((await provider.cancelPayment(paid.payment_id, `${checkoutId}:cancel-3`)).status).toBe(
      "succeeded",
    );
  });

  it("refunds partially, then the remainder, and refuses to refund more than was paid", async () => {
    const { fake, provider, checkoutId } = setup();
    const { payment_id } = await provider.createPayment({
      checkoutId,
      cartId: "c",
      amount: usd(1000),
      idempotencyKey: checkoutId,
    });
    fake.settle(payment_id, "succeeded");
    const partial = await provider.refund({
      paymentId: payment_id,
      amount: usd(300),
      idempotencyKey: `${checkoutId}:r1`,
    });
    expect(partial).toMatchObject({ amount: usd(300), status: "succeeded" });
    const replay = await provider.refund({
      paymentId: payment_id,
      amount: usd(300),
      idempotencyKey: `${checkoutId}:r1`,
    });
    expect(replay.refund_id).toBe(partial.refund_id);
    const over = await providerError(
      provider.refund({ paymentId: payment_id, amount: usd(701), idempotencyKey: `${checkoutId}:r2` }),
    );
    expect(over.code).toBe("amount_too_large");
    const rest = await provider.refund({
      paymentId: payment_id,
      idempotencyKey: `${checkoutId}:r3`,
      reason: "requested_by_customer",
    });
    expect(rest.amount).toEqual(usd(700));
    expect(fake.requests.at(-1)?.params).toMatchObject({ reason: "requested_by_customer" });
    const none = await providerError(
      provider.refund({ paymentId: payment_id, idempotencyKey: `${checkoutId}:r4` }),
    );
    expect(none.code).toBe("amount_too_large");
  });

  it("picks Stripe only when a secret key is configured", () => {
    expect(paymentProviderFor(env).name).toBe("test");
    expect(paymentProviderFor({ ...env, STRIPE_SECRET_KEY: "sk_test_x" }).name).toBe("stripe");
  });
});
