import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { checkoutIndexStatement } from "../workers/checkout/checkout-index";
import { paymentProviderFor } from "../workers/payments/provider";
import { ResilientPaymentProvider } from "../workers/payments/resilient-provider";
import { confirmTestPayment, TEST_CARDS, TestPaymentProvider } from "../workers/payments/test-provider";
import { providerError } from "./helpers";

const usd = (amount: number) => ({ amount, currency: "USD" as const });

async function newPayment(amount = 1500) {
  const provider = new TestPaymentProvider(env);
  const checkoutId = `chk_${crypto.randomUUID()}`;
  const cartId = `cart_${crypto.randomUUID()}`;
  const session = await provider.createPayment({
    checkoutId,
    cartId,
    amount: usd(amount),
    idempotencyKey: `create:${checkoutId}`,
  });
  return { provider, session, checkoutId, cartId };
}

describe("test payment provider", () => {
  it("is the provider when no Stripe key is configured, and creates idempotently", async () => {
    const chosen = paymentProviderFor(env);
    expect(chosen).toBeInstanceOf(ResilientPaymentProvider);
    expect((chosen as ResilientPaymentProvider).inner).toBeInstanceOf(TestPaymentProvider);
    const { provider, session, checkoutId, cartId } = await newPayment();
    expect(session).toMatchObject({ provider: "test", status: "requires_payment_method", amount: usd(1500) });
    expect(session.client_secret).toMatch(new RegExp(`^${session.payment_id}_secret_`));
    const replay = await provider.createPayment({
      checkoutId,
      cartId,
      amount: usd(1500),
      idempotencyKey: `create:${checkoutId}`,
    });
    expect(replay.payment_id).toBe(session.payment_id);
    const reused = await providerError(
      provider.createPayment({ checkoutId, cartId, amount: usd(1), idempotencyKey: `create:${checkoutId}` }),
    );
    expect(reused.code).toBe("idempotency_conflict");
  });

  it("authorises 4242…, and re-confirming returns the same outcome event", async () => {
    const { provider, session, checkoutId, cartId } = await newPayment();
    const outcome = await confirmTestPayment(env, session.payment_id, "4242 4242 4242 4242");
    expect(outcome).toMatchObject({
      provider: "test",
      payment_id: session.payment_id,
      checkout_id: checkoutId,
      cart_id: cartId,
      status: "succeeded",
      amount: usd(1500),
    });
    expect(outcome.event_id).toMatch(/^evt_/);
    expect(await confirmTestPayment(env, session.payment_id, TEST_CARDS.declined)).toEqual(outcome);
    expect((await provider.getPayment(session.payment_id)).status).toBe("succeeded");
  });

  it("declines 4000…0002 and 4000…9995 (insufficient funds) with a message", async () => {
    const declined = await newPayment();
    const a = await confirmTestPayment(env, declined.session.payment_id, TEST_CARDS.declined);
    expect(a).toMatchObject({ status: "failed", failure_message: "Your card was declined." });
    const broke = await newPayment();
    const b = await confirmTestPayment(env, broke.session.payment_id, TEST_CARDS.insufficientFunds);
    expect(b).toMatchObject({ status: "failed", failure_message: "Your card has insufficient funds." });
    expect((await broke.provider.getPayment(broke.session.payment_id)).status).toBe("failed");
  });

  it("asks 4000…3220 for authentication first, then succeeds on the second confirmation", async () => {
    const { provider, session } = await newPayment();
    const challenge = await confirmTestPayment(env, session.payment_id, TEST_CARDS.requiresAction);
    expect(challenge.status).toBe("requires_action");
    expect(await provider.getPayment(session.payment_id)).toMatchObject({
      status: "requires_action",
      next_action: { type: "redirect" },
    });
    const done = await confirmTestPayment(env, session.payment_id, TEST_CARDS.requiresAction);
    expect(done.status).toBe("succeeded");
    expect(done.event_id).not.toBe(challenge.event_id);
  });

  it("rejects a Luhn-invalid number and malformed input", async () => {
    const { session } = await newPayment();
    expect((await confirmTestPayment(env, session.payment_id, "4242424242424241")).status).toBe("failed");
    expect((await providerError(confirmTestPayment(env, session.payment_id, "abc"))).code).toBe(
      "invalid_request",
    );
    expect((await providerError(confirmTestPayment(env, "pay_missing", TEST_CARDS.succeeds))).code).toBe(
      "payment_not_found",
    );
  });

  it("settles concurrent confirmations to a single outcome", async () => {
    const { session } = await newPayment();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => confirmTestPayment(env, session.payment_id, TEST_CARDS.succeeds)),
    );
    expect(new Set(outcomes.map((o) => o.event_id)).size).toBe(1);
    expect(outcomes.every((o) => o.status === "succeeded")).toBe(true);
  });

  it("cancels an open payment but never a succeeded one", async () => {
    const open = await newPayment();
    expect((await open.provider.cancelPayment(open.session.payment_id, "k")).status).toBe("canceled");
    expect((await open.provider.cancelPayment(open.session.payment_id, "k")).status).toBe("canceled");
    expect((await confirmTestPayment(env, open.session.payment_id, TEST_CARDS.succeeds)).status).toBe(
      "canceled",
    );
    const paid = await newPayment();
    await confirmTestPayment(env, paid.session.payment_id, TEST_CARDS.succeeds);
    expect((await paid.provider.cancelPayment(paid.session.payment_id, "k")).status).toBe("succeeded");
  });

  it("refunds partially and fully, replays a key, and refuses over-refunds and unpaid payments", async () => {
    const { provider, session } = await newPayment(1000);
    expect(
      (await providerError(provider.refund({ paymentId: session.payment_id, idempotencyKey: "x" }))).code,
    ).toBe("not_refundable");
    await confirmTestPayment(env, session.payment_id, TEST_CARDS.succeeds);
    const key = `r1:${session.payment_id}`;
    const partial = await provider.refund({
      paymentId: session.payment_id,
      amount: usd(400),
      idempotencyKey: key,
    });
    expect(partial).toMatchObject({ amount: usd(400), status: "succeeded" });
    const replay = await provider.refund({
      paymentId: session.payment_id,
      amount: usd(400),
      idempotencyKey: key,
    });
    expect(replay.refund_id).toBe(partial.refund_id);
    const over = await providerError(
      provider.refund({
        paymentId: session.payment_id,
        amount: usd(601),
        idempotencyKey: `r2:${session.payment_id}`,
      }),
    );
    expect(over.code).toBe("amount_too_large");
    const rest = await provider.refund({
      paymentId: session.payment_id,
      idempotencyKey: `r3:${session.payment_id}`,
    });
    expect(rest.amount).toEqual(usd(600));
    const none = await providerError(
      provider.refund({ paymentId: session.payment_id, idempotencyKey: `r4:${session.payment_id}` }),
    );
    expect(none.code).toBe("amount_too_large");
  });

  it("never refunds more than was paid under concurrent partial refunds", async () => {
    const { provider, session } = await newPayment(1000);
    await confirmTestPayment(env, session.payment_id, TEST_CARDS.succeeds);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        provider.refund({
          paymentId: session.payment_id,
          amount: usd(300),
          idempotencyKey: `c${i}:${session.payment_id}`,
        }),
      ),
    );
    const refunded = results.filter((r) => r.status === "fulfilled");
    expect(refunded).toHaveLength(3);
    const row = await env.DB.prepare("SELECT refunded_amount FROM test_payments WHERE id = ?")
      .bind(session.payment_id)
      .first<{ refunded_amount: number }>();
    expect(row?.refunded_amount).toBe(900);
  });

  describe("a record committed with the payment", () => {
    const indexStatement = (checkoutId: string, cartId: string) => (paymentId: string) =>
      checkoutIndexStatement(env, { id: checkoutId, cartId, createdAt: Date.now(), paymentId });
    const indexedPayment = (checkoutId: string) =>
      env.DB.prepare("SELECT payment_id FROM checkout_index WHERE id = ?1")
        .bind(checkoutId)
        .first<string>("payment_id");
    const paymentsUnder = (key: string) =>
      env.DB.prepare("SELECT count(*) AS n FROM test_payments WHERE idempotency_key = ?1")
        .bind(key)
        .first<number>("n");

    it("names the payment, the same one on a replay under the key", async () => {
      const checkoutId = `chk_${crypto.randomUUID()}`;
      const cartId = `cart_${crypto.randomUUID()}`;
      const input = { checkoutId, cartId, amount: usd(1500), idempotencyKey: `create:${checkoutId}` };
      const provider = new TestPaymentProvider(env);
      const first = await provider.createPayment(input, indexStatement(checkoutId, cartId));
      expect(first.payment_id).toMatch(/^pay_[0-9a-z]{20}$/);
      expect(await indexedPayment(checkoutId)).toBe(first.payment_id);
      const replay = await provider.createPayment(input, indexStatement(checkoutId, cartId));
      expect(replay).toEqual(first);
      expect(await indexedPayment(checkoutId)).toBe(first.payment_id);
      expect(await paymentsUnder(input.idempotencyKey)).toBe(1);
    });

    it("makes no payment when the record cannot be written (one transaction)", async () => {
      const checkoutId = `chk_${crypto.randomUUID()}`;
      const key = `create:${checkoutId}`;
      const failing = () =>
        env.DB.prepare("INSERT INTO checkout_index (id, cart_id, created_at) VALUES (?1, NULL, 0)").bind(
          checkoutId,
        );
      await expect(
        new TestPaymentProvider(env).createPayment(
          { checkoutId, cartId: "cart_x", amount: usd(1500), idempotencyKey: key },
          failing,
        ),
      ).rejects.toThrow();
      expect(await paymentsUnder(key)).toBe(0);
    });

    it("records the real id of a payment an earlier release made under the key", async () => {
      const checkoutId = `chk_${crypto.randomUUID()}`;
      const cartId = `cart_${crypto.randomUUID()}`;
      const key = `create:${checkoutId}`;
      const now = Date.now();
      await env.DB.prepare(
        `INSERT INTO test_payments (id, idempotency_key, checkout_id, cart_id, amount, currency, status, client_secret, created_at, updated_at)
         VALUES ('pay_legacy0000000000000', ?1, ?2, ?3, 1500, 'USD', 'requires_payment_method', 'pay_legacy_secret_x', ?4, ?4)`,
      )
        .bind(key, checkoutId, cartId, now)
        .run();
      const session = await new TestPaymentProvider(env).createPayment(
        { checkoutId, cartId, amount: usd(1500), idempotencyKey: key },
        indexStatement(checkoutId, cartId),
      );
      expect(session.payment_id).toBe("pay_legacy0000000000000");
      expect(await indexedPayment(checkoutId)).toBe("pay_legacy0000000000000");
      expect(await paymentsUnder(key)).toBe(1);
    });
  });
});
