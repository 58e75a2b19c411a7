import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PROVIDER_POLL_INTERVAL_MS } from "../workers/checkout/poll-throttle";
import { releaseReservation } from "../workers/inventory/service";
import {
  body,
  CARDS,
  checkout,
  confirm,
  deliverWebhook,
  ordersFor,
  pollClock,
  readyCart,
  stockedSku,
  stockOf,
  withStripeKey,
} from "./checkout-fixtures";
import { FakeStripe, routeStripeTo } from "./fakes/fake-stripe";
import { call, expectProblem } from "./helpers";
import type { TestCart } from "./revenue-fixtures";

const cartObject = (cartId: string) => env.CART.get(env.CART.idFromName(cartId));

let fake: FakeStripe;

beforeEach(() => {
  fake = new FakeStripe();
  routeStripeTo(fake);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/** Configures this cart's object with a Stripe secret key, as production would via a secret. */
const withStripe = (cart: TestCart) => withStripeKey(cart, fake.secretKey);

describe("checkout with Stripe (fake Stripe API, real SDK, signed webhooks)", () => {
  it("creates one PaymentIntent per checkout with a derived idempotency key and completes on the webhook", async () => {
    const sku = await stockedSku(5, { price: 1999 });
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]));
    const key = crypto.randomUUID();
    const started = await body(await checkout(cart, key));
    expect(started.payment).toMatchObject({
      provider: "stripe",
      client_secret: expect.stringMatching(/^pi_.*_secret_/),
    });
    expect(await body(await checkout(cart, key))).toMatchObject({ id: started.id });
    expect(fake.intents.size).toBe(1);
    const create = fake.requests.find((request) => request.path === "/v1/payment_intents");
    expect(create).toMatchObject({
      idempotencyKey: `popcart:${started.id}:create`,
      params: {
        amount: String(started.totals.total.amount),
        currency: "usd",
        metadata: { checkout_id: started.id, cart_id: cart.id },
      },
    });
    // Stripe.js confirms in the browser; Stripe then calls our webhook.
    fake.settle(started.payment?.payment_id ?? "", "succeeded");
    expect((await deliverWebhook(started, "payment_intent.succeeded")).status).toBe(200);
    const done = await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }));
    expect(done.status).toBe("completed");
    expect(await ordersFor(started.id)).toHaveLength(1);
    expect(await stockOf(sku)).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it("refuses the test-card confirmation route for Stripe payments", async () => {
    const sku = await stockedSku(5);
    const cart = await withStripe(await readyCart([{ sku, quantity: 1 }]));
    const started = await body(await checkout(cart));
    await expectProblem(await confirm(cart, started.id, CARDS.ok), 409, "confirmation_not_supported");
  });

  it("completes from Stripe's state when the client polls and the webhook never arrives", async () => {
    const sku = await stockedSku(5);
    const cart = await withStripe(await readyCart([{ sku, quantity: 2 }]));
    const started = await body(await checkout(cart));
    const clock = await pollClock(cart);
    expect((await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }))).status).toBe(
      "awaiting_payment",
    );
    fake.settle(started.payment?.payment_id ?? "", "succeeded");
    // The next poll interval's read asks Stripe again (reads in between reuse the last answer).
    clock.advance(PROVIDER_POLL_INTERVAL_MS);
    expect((await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }))).status).toBe(
      "completed",
    );
    // The webhook arriving late is harmless.
    expect((await deliverWebhook(started, "payment_intent.succeeded")).status).toBe(200);
    expect(await ordersFor(started.id)).toHaveLength(1);
  });

  it("cancels the PaymentIntent and releases stock when the payment fails", async () => {
    const sku = await stockedSku(2);
    const cart = await withStripe(await readyCart([{ sku, quantity: 2 }]));
    const started = await body(await checkout(cart));
    fake.settle(started.payment?.payment_id ?? "", "failed");
    expect((await deliverWebhook(started, "payment_intent.payment_failed")).status).toBe(200);
    const failed = await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }));
    expect(failed).toMatchObject({ status: "failed", failure: { code: "payment_failed" } });
    expect(fake.intents.get(started.payment?.payment_id ?? "")?.status).toBe("canceled");
    expect(await stockOf(sku)).toEqual({ available: 2, reserved: 0, sold: 0 });
  });

  it("at the end of the payment window cancels an unpaid intent, but completes one that succeeded unannounced", async () => {
    const sku = await stockedSku(5);
    const unpaid = await withStripe(await readyCart([{ sku, quantity: 1 }]));
    const paid = await withStripe(await readyCart([{ sku, quantity: 1 }]));
    const unpaidCheckout = await body(await checkout(unpaid));
    const paidCheckout = await body(await checkout(paid));
    fake.settle(paidCheckout.payment?.payment_id ?? "", "succeeded");
    for (const cart of [unpaid, paid]) {
      await runInDurableObject(cartObject(cart.id), (_instance, state) => {
        state.storage.sql.exec("UPDATE checkouts SET expires_at = ?", Date.now() - 1);
      });
      await runDurableObjectAlarm(cartObject(cart.id));
    }
    expect(fake.intents.get(unpaidCheckout.payment?.payment_id ?? "")?.status).toBe("canceled");
    expect(
      (await body(await call(`/api/checkouts/${unpaidCheckout.id}`, { headers: unpaid.headers }))).status,
    ).toBe("expired");
    expect(
      (await body(await call(`/api/checkouts/${paidCheckout.id}`, { headers: paid.headers }))).status,
    ).toBe("completed");
    expect(await stockOf(sku)).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it("refunds through Stripe when the payment succeeds after the stock was sold elsewhere", async () => {
    const sku = await stockedSku(1);
    const late = await withStripe(await readyCart([{ sku, quantity: 1 }]));
    const lateCheckout = await body(await checkout(late));
    const holds = await runInDurableObject(
      cartObject(late.id),
      (_instance, state) =>
        JSON.parse(
          state.storage.sql.exec<{ reservations: string }>("SELECT reservations FROM checkouts").one()
            .reservations,
        ) as {
          sku: string;
          reservation_id: string;
        }[],
    );
    for (const hold of holds)
      await releaseReservation(env, { sku: hold.sku, reservationId: hold.reservation_id });
    const quick = await readyCart([{ sku, quantity: 1 }]);
    const quickCheckout = await body(await checkout(quick));
    expect((await body(await confirm(quick, quickCheckout.id, CARDS.ok))).status).toBe("completed");

    fake.settle(lateCheckout.payment?.payment_id ?? "", "succeeded");
    expect((await deliverWebhook(lateCheckout, "payment_intent.succeeded")).status).toBe(200);
    const lost = await body(await call(`/api/checkouts/${lateCheckout.id}`, { headers: late.headers }));
    expect(lost.failure?.code).toBe("stock_lost_refunded");
    expect([...fake.refunds.values()]).toEqual([
      expect.objectContaining({
        payment_intent: lateCheckout.payment?.payment_id,
        amount: lateCheckout.totals.total.amount,
      }),
    ]);
    expect(await stockOf(sku)).toEqual({ available: 0, reserved: 0, sold: 1 });
  });
});
