import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { advanceCircuitClock, circuitSnapshot, resetCircuitBreakers } from "../workers/lib/circuit-breaker";
import { resilientEnv } from "../workers/lib/resilient-env";
import { PaymentProviderError, paymentProviderFor } from "../workers/payments/provider";
import {
  body,
  type CheckoutBody,
  checkout,
  deliverWebhook,
  ordersFor,
  readyCart,
  stockedSku,
  stockOf,
} from "./checkout-fixtures";
import { FakeStripe, routeStripeTo } from "./fakes/fake-stripe";
import { failingD1 } from "./fakes/faulty-d1";
import { call, expectProblem } from "./helpers";
import type { TestCart } from "./revenue-fixtures";

const usd = (amount: number) => ({ amount, currency: "USD" as const });
const cartObject = (cartId: string) => env.CART.get(env.CART.idFromName(cartId));

/** Settles with the thrown error (or null), and how long it took. */
async function timed<T>(promise: Promise<T>): Promise<{ error: unknown; value: T | null; ms: number }> {
  const started = Date.now();
  try {
    const value = await promise;
    return { error: null, value, ms: Date.now() - started };
  } catch (error) {
    return { error, value: null, ms: Date.now() - started };
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  resetCircuitBreakers();
});

describe("payment provider behind a deadline and a circuit breaker", () => {
  let fake: FakeStripe;
  let requests: number;
  const stripe = (vars: Record<string, string> = {}) =>
    paymentProviderFor({ ...env, STRIPE_SECRET_KEY: fake.secretKey, ...vars }, (input, init) => {
      requests++;
      return fake.fetch(input, init);
    });
  const create = (provider: ReturnType<typeof stripe>) =>
    provider.createPayment({
      checkoutId: `chk_${crypto.randomUUID()}`,
      cartId: "cart_1",
      amount: usd(1000),
      idempotencyKey: crypto.randomUUID(),
    });

  beforeEach(() => {
    fake = new FakeStripe();
    requests = 0;
  });

  it("turns a Stripe call that never answers into a retryable provider_unavailable within the budget", async () => {
    fake.stall = true;
    const { error, ms } = await timed(create(stripe({ PAYMENT_TIMEOUT_MS: "1600" })));
    expect(error).toBeInstanceOf(PaymentProviderError);
    expect((error as PaymentProviderError).code).toBe("provider_unavailable");
    expect(ms).toBeGreaterThanOrEqual(1_500);
    expect(ms).toBeLessThan(1_600 + 500);
    // The SDK's per-attempt timeout (550 ms) fired first and it retried once, under the same key.
    expect(fake.requests.length).toBe(2);
    expect(new Set(fake.requests.map((r) => r.idempotencyKey)).size).toBe(1);
  });

  it("opens after the threshold of timeouts, then fails fast without contacting Stripe", async () => {
    fake.stall = true;
    const vars = {
      PAYMENT_TIMEOUT_MS: "300",
      PAYMENT_BREAKER_THRESHOLD: "2",
      PAYMENT_BREAKER_COOLDOWN_MS: "60000",
    };
    for (let i = 0; i < 2; i++) await timed(create(stripe(vars)));
    expect(circuitSnapshot()["payment:stripe"]?.state).toBe("open");
    const before = requests;
    const { error } = await timed(create(stripe(vars)));
    // Fast because nothing was sent: counted, not timed.
    expect(requests).toBe(before);
    expect(error).toMatchObject({ code: "provider_unavailable" });
    expect((error as PaymentProviderError).retryAfterSeconds).toBeGreaterThan(55);
  });

  it("closes again after a successful half-open trial", async () => {
    fake.stall = true;
    const vars = {
      PAYMENT_TIMEOUT_MS: "300",
      PAYMENT_BREAKER_THRESHOLD: "1",
      PAYMENT_BREAKER_COOLDOWN_MS: "200",
    };
    await timed(create(stripe(vars)));
    expect(circuitSnapshot()["payment:stripe"]?.state).toBe("open");
    fake.stall = false;
    advanceCircuitClock(250);
    const session = await create(stripe(vars));
    expect(session.status).toBe("requires_payment_method");
    expect(circuitSnapshot()["payment:stripe"]).toMatchObject({ state: "closed", failures: 0 });
  });

  it("does not count refusals from a healthy provider against it", async () => {
    const vars = { PAYMENT_BREAKER_THRESHOLD: "1" };
    for (let i = 0; i < 3; i++) {
      const { error } = await timed(stripe(vars).getPayment("pi_does_not_exist"));
      expect(error).toMatchObject({ code: "payment_not_found" });
    }
    expect(circuitSnapshot()["payment:stripe"]?.state).toBe("closed");
  });
});

describe("checkout while the payment provider times out (fake Stripe behind the real SDK)", () => {
  let fake: FakeStripe;

  beforeEach(() => {
    fake = new FakeStripe();
    routeStripeTo(fake);
  });

  /** Gives this cart's object a Stripe key and tight payment settings, as vars would in production. */
  async function withStripe(cart: TestCart, vars: Record<string, string>): Promise<TestCart> {
    await runInDurableObject(cartObject(cart.id), (instance) => {
      const object = instance as unknown as { env: Env };
      object.env = { ...object.env, STRIPE_SECRET_KEY: fake.secretKey, ...vars };
    });
    return cart;
  }

  async function checkoutRow(cartId: string) {
    return runInDurableObject(cartObject(cartId), (_instance, state) =>
      state.storage.sql
        .exec<{ id: string; status: string; expires_at: number; created_at: number }>(
          "SELECT id, status, expires_at, created_at FROM checkouts",
        )
        .one(),
    );
  }

  it("answers 503 fast when the create times out after Stripe committed it; the same key then resumes to one PaymentIntent and one order", async () => {
    const sku = await stockedSku(5, { price: 1999 });
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]), { PAYMENT_TIMEOUT_MS: "800" });
    const key = crypto.randomUUID();

    fake.stall = true;
    const started = Date.now();
    const res = await checkout(cart, key);
    const elapsed = Date.now() - started;
    const problem = await expectProblem(res, 503, "payment_provider_unavailable");
    expect(elapsed).toBeLessThan(800 + 1_000);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const checkoutId = (problem as unknown as { checkout_id: string }).checkout_id;
    expect(checkoutId).toMatch(/^chk_/);
    // Stripe created the intent even though we never heard back; our holds are kept for the retry.
    expect(fake.intents.size).toBe(1);
    expect(await stockOf(sku)).toEqual({ available: 4, reserved: 1, sold: 0 });
    const pending = await checkoutRow(cart.id);
    expect(pending.status).toBe("pending");
    expect(pending.expires_at - Date.now()).toBeLessThanOrEqual(2 * 60 * 1000);

    fake.stall = false;
    const resumed = await body(await checkout(cart, key));
    expect(resumed.id).toBe(checkoutId);
    expect(resumed.status).toBe("awaiting_payment");
    expect(fake.intents.size).toBe(1);
    expect(resumed.payment?.payment_id).toBe([...fake.intents.keys()][0]);
    expect((await checkoutRow(cart.id)).expires_at).toBe(pending.created_at + 15 * 60 * 1000);
    // Replaying once more changes nothing.
    expect((await body(await checkout(cart, key))).payment?.payment_id).toBe(resumed.payment?.payment_id);
    expect(fake.requests.filter((r) => r.path === "/v1/payment_intents")).toSatisfy((creates: unknown[]) =>
      creates.every(
        (r) => (r as { idempotencyKey: string }).idempotencyKey === `popcart:${checkoutId}:create`,
      ),
    );

    fake.settle(resumed.payment?.payment_id ?? "", "succeeded");
    expect((await deliverWebhook(resumed, "payment_intent.succeeded")).status).toBe(200);
    expect(await ordersFor(checkoutId)).toHaveLength(1);
    expect(await stockOf(sku)).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it("keeps a checkout whose payment could not start readable by id, and records its payment once it starts", async () => {
    const sku = await stockedSku(5);
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]), { PAYMENT_TIMEOUT_MS: "400" });
    const key = crypto.randomUUID();
    const indexRow = (id: string) =>
      env.DB.prepare("SELECT payment_id, settled_at FROM checkout_index WHERE id = ?1").bind(id).first();
    fake.stall = true;
    const problem = await expectProblem(await checkout(cart, key), 503, "payment_provider_unavailable");
    const checkoutId = (problem as unknown as { checkout_id: string }).checkout_id;
    expect((await call(`/api/checkouts/${checkoutId}`, { headers: cart.headers })).status).toBe(200);
    expect(await indexRow(checkoutId)).toEqual({ payment_id: null, settled_at: null });

    fake.stall = false;
    const resumed = await body(await checkout(cart, key));
    expect(await indexRow(checkoutId)).toEqual({ payment_id: resumed.payment?.payment_id, settled_at: null });
  });

  it("gives the holds back when nobody retries within the resume window", async () => {
    const sku = await stockedSku(3);
    const cart = await withStripe(await readyCart([{ sku, quantity: 2 }]), { PAYMENT_TIMEOUT_MS: "400" });
    fake.stall = true;
    const key = crypto.randomUUID();
    await expectProblem(await checkout(cart, key), 503, "payment_provider_unavailable");
    expect(await stockOf(sku)).toEqual({ available: 1, reserved: 2, sold: 0 });

    await runInDurableObject(cartObject(cart.id), (_instance, state) => {
      state.storage.sql.exec("UPDATE checkouts SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(cartObject(cart.id))).toBe(true);
    expect(await stockOf(sku)).toEqual({ available: 3, reserved: 0, sold: 0 });
    const replay = await body<CheckoutBody>(await checkout(cart, key));
    expect(replay.status).toBe("expired");
    // The cart is open again: a new attempt (new key) may start once Stripe answers.
    fake.stall = false;
    const fresh = await body(await checkout(cart, crypto.randomUUID()), [201]);
    expect(fresh.status).toBe("awaiting_payment");
  });

  it("fails fast without calling Stripe once the payment circuit is open, and recovers after the cool-down", async () => {
    const sku = await stockedSku(10);
    const vars = {
      PAYMENT_TIMEOUT_MS: "300",
      PAYMENT_BREAKER_THRESHOLD: "2",
      PAYMENT_BREAKER_COOLDOWN_MS: "1500",
    };
    fake.stall = true;
    for (let i = 0; i < 2; i++) {
      const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]), vars);
      await expectProblem(await checkout(cart), 503, "payment_provider_unavailable");
    }
    // Payments attempted so far, by idempotency key: an earlier call's SDK retry may still land
    // late (under the same key), but a new payment would bring a new key.
    const attempted = () => new Set(fake.requests.map((r) => r.idempotencyKey)).size;
    const sent = attempted();
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]), vars);
    const key = crypto.randomUUID();
    const res = await checkout(cart, key);
    await expectProblem(res, 503, "payment_provider_unavailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(attempted()).toBe(sent);

    fake.stall = false;
    advanceCircuitClock(1_600);
    const resumed = await body(await checkout(cart, key));
    expect(resumed.status).toBe("awaiting_payment");
    expect(circuitSnapshot()["payment:stripe"]?.state).toBe("closed");
  });

  it("answers a payment webhook 503 while D1 fails in the cart object, refunds nothing, and applies the retried delivery", async () => {
    const sku = await stockedSku(5);
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]), {});
    const started = await body(await checkout(cart));
    fake.settle(started.payment?.payment_id ?? "", "succeeded");
    let healthy: Env | undefined;
    await runInDurableObject(cartObject(cart.id), (instance) => {
      const object = instance as unknown as { env: Env };
      healthy = object.env;
      // The binding the cart object would get from the runtime, through its constructor's guard.
      object.env = resilientEnv({ ...object.env, DB: failingD1() });
    });
    const eventId = `evt_${crypto.randomUUID().replaceAll("-", "")}`;
    const first = await deliverWebhook(started, "payment_intent.succeeded", eventId);
    await expectProblem(first, 503, "database_unavailable");
    expect(fake.refunds.size).toBe(0);
    expect(await ordersFor(started.id)).toHaveLength(0);

    await runInDurableObject(cartObject(cart.id), (instance) => {
      if (healthy) (instance as unknown as { env: Env }).env = healthy;
    });
    resetCircuitBreakers();
    expect((await deliverWebhook(started, "payment_intent.succeeded", eventId)).status).toBe(200);
    expect(await ordersFor(started.id)).toHaveLength(1);
    expect(fake.refunds.size).toBe(0);
    expect(await stockOf(sku)).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it("keeps answering checkout status from its stored state while Stripe is unreachable", async () => {
    const sku = await stockedSku(5);
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]), { PAYMENT_TIMEOUT_MS: "300" });
    const started = await body(await checkout(cart));
    fake.stall = true;
    const res = await call(`/api/checkouts/${started.id}`, { headers: cart.headers });
    expect(res.status).toBe(200);
    expect(((await res.json()) as CheckoutBody).status).toBe("awaiting_payment");
  });
});
