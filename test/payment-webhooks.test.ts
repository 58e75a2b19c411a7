import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { createApp } from "../workers/edge/app";
import { placeOrder } from "../workers/orders/service";
import type { PaymentOutcome } from "../workers/payments/provider";
import { stripeEvent } from "./fakes/stripe-events";
import { expectProblem } from "./helpers";

const SECRET = "whsec_test_popcart";
const crypto_ = Stripe.createSubtleCryptoProvider();
const webhookEnv = { ...env, STRIPE_WEBHOOK_SECRET: SECRET };

/** The edge app with its webhook route handing outcomes to a recorder instead of checkout. */
function appWithRecorder(delayMs = 0) {
  const outcomes: PaymentOutcome[] = [];
  const app = createApp({
    paymentOutcomeHandler: async (_env, outcome) => {
      // Let concurrent duplicate deliveries overlap with this one.
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      outcomes.push(outcome);
    },
  });
  return { app, outcomes };
}

function intentEvent(
  type: string,
  overrides: Record<string, unknown> = {},
  metadata?: Record<string, string>,
) {
  const id = `pi_${crypto.randomUUID().replaceAll("-", "")}`;
  return stripeEvent(type, {
    id,
    object: "payment_intent",
    amount: 4200,
    currency: "eur",
    status: type.replace("payment_intent.", ""),
    metadata: metadata ?? { checkout_id: `chk_${id}`, cart_id: `cart_${id}` },
    last_payment_error: null,
    ...overrides,
  });
}

async function deliver(
  app: ReturnType<typeof createApp>,
  event: unknown,
  opts: { secret?: string; timestamp?: number; tamper?: boolean } = {},
) {
  const payload = JSON.stringify(event);
  const header = await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: opts.secret ?? SECRET,
    cryptoProvider: crypto_,
    ...(opts.timestamp ? { timestamp: opts.timestamp } : {}),
  });
  return app.request(
    "/webhooks/stripe",
    {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": header },
      body: opts.tamper ? payload.replace("4200", "1") : payload,
    },
    webhookEnv,
  );
}

describe("Stripe webhooks", () => {
  it("verifies a real signature and maps payment_intent.succeeded to a PaymentOutcome", async () => {
    const { app, outcomes } = appWithRecorder();
    const event = intentEvent("payment_intent.succeeded");
    const res = await deliver(app, event);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, duplicate: false });
    const pi = event.data.object;
    expect(outcomes).toEqual([
      {
        event_id: event.id,
        provider: "stripe",
        payment_id: pi.id,
        checkout_id: pi.metadata.checkout_id,
        cart_id: pi.metadata.cart_id,
        status: "succeeded",
        amount: { amount: 4200, currency: "EUR" },
      },
    ]);
  });

  it("maps failed, canceled and requires_action intents, with the failure message", async () => {
    const { app, outcomes } = appWithRecorder();
    await deliver(
      app,
      intentEvent("payment_intent.payment_failed", {
        status: "requires_payment_method",
        last_payment_error: { message: "Your card was declined.", code: "card_declined" },
      }),
    );
    await deliver(app, intentEvent("payment_intent.canceled"));
    await deliver(app, intentEvent("payment_intent.requires_action"));
    expect(outcomes.map((o) => [o.status, o.failure_message])).toEqual([
      ["failed", "Your card was declined."],
      ["canceled", undefined],
      ["requires_action", undefined],
    ]);
  });

  it("refuses a forged signature, a tampered body and a missing header with 400 invalid_signature", async () => {
    const { app, outcomes } = appWithRecorder();
    await expectProblem(
      await deliver(app, intentEvent("payment_intent.succeeded"), { secret: "whsec_wrong" }),
      400,
      "invalid_signature",
    );
    await expectProblem(
      await deliver(app, intentEvent("payment_intent.succeeded"), { tamper: true }),
      400,
      "invalid_signature",
    );
    const missing = await app.request(
      "/webhooks/stripe",
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      webhookEnv,
    );
    await expectProblem(missing, 400, "invalid_signature");
    expect(outcomes).toHaveLength(0);
  });

  it("refuses a correctly signed delivery whose timestamp is outside the tolerance (a replay)", async () => {
    const { app, outcomes } = appWithRecorder();
    const stale = Math.floor(Date.now() / 1000) - 301;
    await expectProblem(
      await deliver(app, intentEvent("payment_intent.succeeded"), { timestamp: stale }),
      400,
      "invalid_signature",
    );
    expect(outcomes).toHaveLength(0);
    const fresh = Math.floor(Date.now() / 1000) - 200;
    expect((await deliver(app, intentEvent("payment_intent.succeeded"), { timestamp: fresh })).status).toBe(
      200,
    );
  });

  it("applies a re-delivered event once and acknowledges the repeat", async () => {
    const { app, outcomes } = appWithRecorder();
    const event = intentEvent("payment_intent.succeeded");
    expect((await deliver(app, event)).status).toBe(200);
    const again = await deliver(app, event);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect(outcomes).toHaveLength(1);
  });

  it("applies concurrent duplicate deliveries exactly once; the others are retried or acknowledged", async () => {
    const { app, outcomes } = appWithRecorder(50);
    const event = intentEvent("payment_intent.succeeded");
    const responses = await Promise.all(Array.from({ length: 10 }, () => deliver(app, event)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(outcomes).toHaveLength(1);
    // Once applied, every later delivery is a plain acknowledgement.
    expect(await (await deliver(app, event)).json()).toEqual({ received: true, duplicate: true });
  });

  it("releases the claim when the handler fails, so Stripe's retry applies the event", async () => {
    let attempts = 0;
    const applied: string[] = [];
    const app = createApp({
      paymentOutcomeHandler: async (_env, outcome) => {
        attempts++;
        if (attempts === 1) throw new Error("database briefly unavailable");
        applied.push(outcome.event_id);
      },
    });
    const event = intentEvent("payment_intent.succeeded");
    expect((await deliver(app, event)).status).toBe(500);
    expect((await deliver(app, event)).status).toBe(200);
    expect(applied).toEqual([event.id]);
  });

  it("acknowledges events for intents that are not ours without calling the handler", async () => {
    const { app, outcomes } = appWithRecorder();
    const res = await deliver(app, intentEvent("payment_intent.succeeded", {}, {}));
    expect(res.status).toBe(200);
    const other = await deliver(app, { ...intentEvent("customer.created"), type: "customer.created" });
    expect(other.status).toBe(200);
    expect(outcomes).toHaveLength(0);
  });

  it("records a dashboard refund from charge.refunded on the order, once", async () => {
    const { app } = appWithRecorder();
    const paymentId = `pi_${crypto.randomUUID().replaceAll("-", "")}`;
    const { order } = await placeOrder(env, {
      checkout_id: `chk_${crypto.randomUUID()}`,
      cart_id: "cart_x",
      email: "refund@example.com",
      currency: "EUR",
      lines: [
        {
          sku: "SKU-1",
          variant_id: "var_1",
          product_id: "prod_1",
          title: "Mug",
          variant_title: "",
          quantity: 1,
          unit_price: 4200,
          discount: 0,
          tax: 0,
          total: 4200,
        },
      ],
      subtotal: 4200,
      discount_total: 0,
      shipping_total: 0,
      tax_total: 0,
      total: 4200,
      tax_inclusive: true,
      shipping_address: null,
      shipping_method: { id: "std", name: "Standard", amount: 0 },
      payment: { provider: "stripe", payment_id: paymentId, amount: 4200, status: "succeeded" },
    });
    const event = {
      ...intentEvent("charge.refunded"),
      type: "charge.refunded",
      data: {
        object: {
          id: "ch_1",
          object: "charge",
          amount: 4200,
          amount_refunded: 1000,
          currency: "eur",
          payment_intent: paymentId,
        },
      },
    };
    expect((await deliver(app, event)).status).toBe(200);
    expect((await deliver(app, event)).status).toBe(200);
    const row = await env.DB.prepare("SELECT refunded_total, payment_status FROM orders WHERE id = ?")
      .bind(order.id)
      .first();
    expect(row).toEqual({ refunded_total: 1000, payment_status: "partially_refunded" });
    const unknown = {
      ...event,
      id: `evt_${crypto.randomUUID()}`,
      data: { object: { ...event.data.object, payment_intent: "pi_unknown" } },
    };
    expect((await deliver(app, unknown)).status).toBe(200);
  });

  it("publishes the webhook route in the OpenAPI document once mounted", async () => {
    const { app } = appWithRecorder();
    const doc = (await (await app.request("/openapi.json", {}, webhookEnv)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.paths["/webhooks/stripe"]?.post).toBeDefined();
    expect(doc.paths["/api/orders/{id}"]?.get).toBeDefined();
    expect(doc.paths["/admin/api/orders/{id}/refunds"]?.post).toBeDefined();
  });

  it("answers 503 when no webhook secret is configured", async () => {
    const res = await createApp().request(
      "/webhooks/stripe",
      { method: "POST", body: "{}" },
      { ...env, STRIPE_WEBHOOK_SECRET: "" },
    );
    await expectProblem(res, 503, "stripe_webhooks_not_configured");
  });
});
