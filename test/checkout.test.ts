import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PAYMENT_RESUME_WINDOW_MS } from "../workers/checkout/deadlines";
import { releaseReservation } from "../workers/inventory/service";
import { confirmTestPayment } from "../workers/payments/test-provider";
import {
  body,
  CARDS,
  type CheckoutBody,
  checkout,
  confirm,
  deliverWebhook,
  ordersFor,
  readyCart,
  stockedSku,
  stockOf,
} from "./checkout-fixtures";
import { call, callJson, expectProblem } from "./helpers";
import { newCart, seedPromotion } from "./revenue-fixtures";

const cartObject = (cartId: string) => env.CART.get(env.CART.idFromName(cartId));

/** Moves a checkout's payment window into the past and fires the cart's alarm. */
async function expirePaymentWindow(cartId: string) {
  const stub = cartObject(cartId);
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE checkouts SET expires_at = ? WHERE status <> 'completed'", Date.now() - 1);
  });
  await runDurableObjectAlarm(stub);
}

/** The order events written to the outbox for an order, by type. */
async function orderEvents(orderId: string) {
  const { results } = await env.DB.prepare("SELECT type FROM outbox WHERE aggregate_id = ?1 ORDER BY type")
    .bind(orderId)
    .all<{ type: string }>();
  return results.map((row) => row.type);
}

async function paymentsFor(checkoutId: string) {
  const { results } = await env.DB.prepare("SELECT id, status FROM test_payments WHERE checkout_id = ?1")
    .bind(checkoutId)
    .all<{ id: string; status: string }>();
  return results;
}

describe("starting a checkout", () => {
  it("requires an Idempotency-Key header and a well-formed one", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    await expectProblem(
      await callJson(`/api/carts/${cart.id}/checkout`, "POST", {}, cart.headers),
      400,
      "idempotency_key_required",
    );
    await expectProblem(await checkout(cart, "short"), 422, "validation_failed");
  });

  it("refuses empty and incomplete carts, naming what is missing", async () => {
    const empty = await newCart();
    await expectProblem(await checkout(empty), 422, "cart_empty");
    const sku = await stockedSku(5);
    const cart = await newCart();
    await callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity: 1 }, cart.headers);
    const problem = await expectProblem(await checkout(cart), 422, "checkout_incomplete");
    expect(problem).toMatchObject({ missing: "email,shipping_address,shipping_method" });
  });

  it("reserves every line, re-prices from D1 and returns the payment to confirm", async () => {
    const sku = await stockedSku(10, { price: 2500 });
    const cart = await readyCart([{ sku, quantity: 2 }]);
    const res = await checkout(cart);
    expect(res.status).toBe(201);
    const created = await body(res);
    expect(created).toMatchObject({
      status: "awaiting_payment",
      cart_id: cart.id,
      payment: { provider: "test", client_secret: expect.any(String) },
      // 5000 + 599 shipping + Illinois 6.25 % state tax (312.5 → 313, 37.44 → 37), per amount half-up.
      totals: { total: { amount: 5949, currency: "USD" } },
    });
    expect(await stockOf(sku)).toEqual({ available: 8, reserved: 2, sold: 0 });
    const cartNow = await body<{ status: string }>(
      await call(`/api/carts/${cart.id}`, { headers: cart.headers }),
    );
    expect(cartNow.status).toBe("checking_out");
    await expectProblem(
      await callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity: 1 }, cart.headers),
      409,
      "cart_locked",
    );
  });

  it("returns the same checkout for the same key, concurrently or later, and creates one payment", async () => {
    const sku = await stockedSku(10);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const key = crypto.randomUUID();
    const responses = await Promise.all([checkout(cart, key), checkout(cart, key), checkout(cart, key)]);
    const bodies = await Promise.all(responses.map((res) => body(res)));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(responses.map((res) => res.status).sort()).toEqual([200, 200, 201]);
    // A client that timed out retries with the same key: still the same checkout.
    const retry = await body(await checkout(cart, key));
    expect(retry.id).toBe(bodies[0]?.id);
    expect(retry.payment?.payment_id).toBe(bodies[0]?.payment?.payment_id);
    expect(await paymentsFor(retry.id)).toHaveLength(1);
    expect(await stockOf(sku)).toMatchObject({ reserved: 1 });
  });

  it("lets only one of several different keys racing on one cart create a payment", async () => {
    const sku = await stockedSku(10);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const responses = await Promise.all(Array.from({ length: 5 }, () => checkout(cart)));
    expect(responses.filter((res) => res.status === 201)).toHaveLength(1);
    for (const res of responses.filter((r) => r.status !== 201)) {
      await expectProblem(res, 409, "checkout_in_progress");
    }
    expect(await stockOf(sku)).toMatchObject({ reserved: 1 });
  });

  it("records a checkout in D1 with its payment, in one row, and a refused one not at all", async () => {
    const sku = await stockedSku(1);
    const first = await readyCart([{ sku, quantity: 1 }]);
    const second = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(first));
    await expectProblem(await checkout(second), 409, "sold_out");
    const { results } = await env.DB.prepare(
      "SELECT id, cart_id, payment_id, settled_at FROM checkout_index WHERE cart_id IN (?1, ?2)",
    )
      .bind(first.id, second.id)
      .all();
    expect(results).toEqual([
      { id: started.id, cart_id: first.id, payment_id: started.payment?.payment_id, settled_at: null },
    ]);
  });

  it("lets the cart's alarm fire early rather than move it later: an early alarm re-arms for the payment window", async () => {
    const sku = await stockedSku(1);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(cart));
    const stub = env.CART.get(env.CART.idFromName(cart.id));
    const alarmAt = () => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    // Armed for the resume window when the checkout began; the started payment (a later
    // deadline) wrote no new alarm.
    expect(await alarmAt()).toBeLessThanOrEqual(Date.now() + PAYMENT_RESUME_WINDOW_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const status = await body(await callJson(`/api/checkouts/${started.id}`, "GET", undefined, cart.headers));
    expect(status.status).toBe("awaiting_payment");
    expect(await alarmAt()).toBeGreaterThan(Date.now() + PAYMENT_RESUME_WINDOW_MS);
    // Paid: the cart sleeps until its idle expiry, not the 5 s completion retry.
    expect((await body(await confirm(cart, started.id, CARDS.ok))).status).toBe("completed");
    expect(await alarmAt()).toBeGreaterThan(Date.now() + 24 * 60 * 60 * 1000);
  });

  it("is all or nothing: a sold-out line releases the others and is named in the problem", async () => {
    const plenty = await stockedSku(10);
    const scarce = await stockedSku(1);
    const cart = await readyCart([
      { sku: plenty, quantity: 2 },
      { sku: scarce, quantity: 2 },
    ]);
    const cartBody = await body<{ lines: { id: string; sku: string }[] }>(
      await call(`/api/carts/${cart.id}`, { headers: cart.headers }),
    );
    const problem = await expectProblem(await checkout(cart), 409, "sold_out");
    expect(problem).toMatchObject({
      sku: scarce,
      line_id: cartBody.lines.find((line) => line.sku === scarce)?.id,
      available: 1,
    });
    expect(await stockOf(plenty)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await stockOf(scarce)).toEqual({ available: 1, reserved: 0, sold: 0 });
    const cartNow = await body<{ status: string }>(
      await call(`/api/carts/${cart.id}`, { headers: cart.headers }),
    );
    expect(cartNow.status).toBe("open");
  });
});

describe("revenue routes in the API document", () => {
  it("publishes every cart, checkout, promotion and webhook route", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const expected: [string, string][] = [
      ["/api/carts", "post"],
      ["/api/carts/{id}", "get"],
      ["/api/carts/{id}/lines", "post"],
      ["/api/carts/{id}/lines/{line_id}", "patch"],
      ["/api/carts/{id}/lines/{line_id}", "delete"],
      ["/api/carts/{id}/email", "put"],
      ["/api/carts/{id}/shipping-address", "put"],
      ["/api/carts/{id}/shipping-method", "put"],
      ["/api/carts/{id}/promotions", "post"],
      ["/api/carts/{id}/promotions/{code}", "delete"],
      ["/api/carts/{id}/checkout", "post"],
      ["/api/checkouts/{id}", "get"],
      ["/api/checkouts/{id}/confirm", "post"],
      ["/admin/api/promotions", "get"],
      ["/admin/api/promotions", "post"],
      ["/webhooks/stripe", "post"],
    ];
    for (const [path, method] of expected)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  });
});

describe("checkout abuse limits", () => {
  it("answers 429 rate_limited after 10 checkout attempts on one cart within a minute", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const key = crypto.randomUUID();
    for (let i = 0; i < 10; i++) expect((await checkout(cart, key)).status).toBeLessThan(300);
    const limited = await checkout(cart, key);
    await expectProblem(limited, 429, "rate_limited");
    expect(limited.headers.get("retry-after")).toBe("60");
  });
});

describe("paying", () => {
  it("completes on a successful test card: commits stock, writes one order, locks the cart", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 2 }]);
    const started = await body(await checkout(cart));
    const paid = await body(await confirm(cart, started.id, CARDS.ok));
    expect(paid.status).toBe("completed");
    expect(paid.order).toMatchObject({
      id: expect.stringMatching(/^ord_/),
      number: expect.stringMatching(/^PC-/),
    });
    expect(await stockOf(sku)).toEqual({ available: 3, reserved: 0, sold: 2 });
    expect(await ordersFor(started.id)).toHaveLength(1);
    expect(await orderEvents(paid.order?.id ?? "")).toEqual(["order.paid", "order.placed"]);
    const { results: lines } = await env.DB.prepare(
      "SELECT reservation_id FROM order_lines WHERE order_id = ?1",
    )
      .bind(paid.order?.id)
      .all<{ reservation_id: string | null }>();
    expect(lines).toEqual([{ reservation_id: expect.stringMatching(/^res_/) }]);
    const order = await call(`/api/orders/${paid.order?.id}?token=${paid.order?.lookup_token}`);
    expect(order.status).toBe(200);
    const cartNow = await body<{ status: string }>(
      await call(`/api/carts/${cart.id}`, { headers: cart.headers }),
    );
    expect(cartNow.status).toBe("completed");
    await expectProblem(await checkout(cart), 409, "cart_locked");
  });

  it("releases stock on a declined card and lets the shopper retry with a new checkout", async () => {
    const sku = await stockedSku(3);
    const cart = await readyCart([{ sku, quantity: 3 }]);
    const first = await body(await checkout(cart));
    const declined = await body(await confirm(cart, first.id, CARDS.declined));
    expect(declined).toMatchObject({ status: "failed", failure: { code: "payment_failed" } });
    expect(await stockOf(sku)).toEqual({ available: 3, reserved: 0, sold: 0 });
    // The declined payment can never succeed later (it is failed or canceled at the provider).
    expect(["failed", "canceled"]).toContain((await paymentsFor(first.id))[0]?.status);
    expect((await body(await confirm(cart, first.id, CARDS.ok))).status).toBe("failed");
    const second = await body(await checkout(cart));
    expect(second.id).not.toBe(first.id);
    expect((await body(await confirm(cart, second.id, CARDS.ok))).status).toBe("completed");
    expect(await stockOf(sku)).toEqual({ available: 0, reserved: 0, sold: 3 });
  });

  it("goes through requires_action and completes once the shopper authenticates", async () => {
    const sku = await stockedSku(3);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(cart));
    expect((await body(await confirm(cart, started.id, CARDS.threeDs))).status).toBe("requires_action");
    expect((await body(await confirm(cart, started.id, CARDS.threeDs))).status).toBe("completed");
  });

  it("answers 404 for another cart's token, unknown or malformed checkout ids, and 422 for bad cards", async () => {
    const sku = await stockedSku(3);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const other = await newCart();
    const started = await body(await checkout(cart));
    await expectProblem(
      await call(`/api/checkouts/${started.id}`, { headers: other.headers }),
      404,
      "checkout_not_found",
    );
    await expectProblem(await call(`/api/checkouts/${started.id}`), 404, "checkout_not_found");
    await expectProblem(
      await call("/api/checkouts/chk_00000000000000000000", { headers: cart.headers }),
      404,
      "checkout_not_found",
    );
    await expectProblem(
      await call("/api/checkouts/../../x", { headers: cart.headers }),
      404,
      "route_not_found",
    );
    await expectProblem(await confirm(other, started.id, CARDS.ok), 404, "checkout_not_found");
    await expectProblem(await confirm(cart, started.id, "4242-abcd-4242-4242"), 422, "card_invalid");
    expect(
      (await callJson(`/api/checkouts/${started.id}/confirm`, "POST", { card_number: 4242 }, cart.headers))
        .status,
    ).toBe(422);
    await expectProblem(await checkout({ ...cart, headers: other.headers }), 404, "cart_not_found");
    expect((await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }))).status).toBe(
      "awaiting_payment",
    );
  });
});

describe("payment races", () => {
  it("completes when the webhook arrives before the client's confirmation, and the late confirmation changes nothing", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(cart));
    expect((await deliverWebhook(started, "payment_intent.succeeded")).status).toBe(200);
    expect((await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }))).status).toBe(
      "completed",
    );
    expect((await body(await confirm(cart, started.id, CARDS.ok))).status).toBe("completed");
    expect(await ordersFor(started.id)).toHaveLength(1);
    expect(await stockOf(sku)).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it("ignores a webhook arriving after the client's confirmation already completed the checkout", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(cart));
    expect((await body(await confirm(cart, started.id, CARDS.ok))).status).toBe("completed");
    expect((await deliverWebhook(started, "payment_intent.succeeded")).status).toBe(200);
    // A stale failure event cannot undo a completed checkout either.
    expect((await deliverWebhook(started, "payment_intent.payment_failed")).status).toBe(200);
    expect((await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }))).status).toBe(
      "completed",
    );
    expect(await ordersFor(started.id)).toHaveLength(1);
    expect(await stockOf(sku)).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it("completes from the provider's state when the client confirms but no webhook ever comes", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(cart));
    // The browser confirms with the provider directly (Stripe.js); our server is not told.
    await confirmTestPayment(env, started.payment?.payment_id ?? "", CARDS.ok);
    const polled = await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }));
    expect(polled.status).toBe("completed");
    expect(await ordersFor(started.id)).toHaveLength(1);
  });

  it("writes exactly one order when the same webhook is delivered many times at once", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 2 }]);
    const started = await body(await checkout(cart));
    const eventId = `evt_${crypto.randomUUID().replaceAll("-", "")}`;
    const deliveries = await Promise.all(
      Array.from({ length: 6 }, () => deliverWebhook(started, "payment_intent.succeeded", eventId)),
    );
    for (const res of deliveries) expect([200, 409]).toContain(res.status);
    // Distinct events for the same payment (Stripe may send several) are harmless too.
    await Promise.all([
      deliverWebhook(started, "payment_intent.succeeded"),
      deliverWebhook(started, "payment_intent.succeeded"),
    ]);
    const orders = await ordersFor(started.id);
    expect(orders).toHaveLength(1);
    expect(await orderEvents(orders[0]?.id ?? "")).toEqual(["order.paid", "order.placed"]);
    expect(await stockOf(sku)).toEqual({ available: 3, reserved: 0, sold: 2 });
  });

  it("expires an unpaid checkout after its payment window: cancels the payment and frees the stock", async () => {
    const sku = await stockedSku(2);
    const cart = await readyCart([{ sku, quantity: 2 }]);
    const started = await body(await checkout(cart));
    await expirePaymentWindow(cart.id);
    const expired = await body(await call(`/api/checkouts/${started.id}`, { headers: cart.headers }));
    expect(expired).toMatchObject({ status: "expired", failure: { code: "payment_window_expired" } });
    expect(await stockOf(sku)).toEqual({ available: 2, reserved: 0, sold: 0 });
    // The canceled payment cannot be confirmed any more; the client retries with a new checkout.
    expect((await body(await confirm(cart, started.id, CARDS.ok))).status).toBe("expired");
    const retry = await body(await checkout(cart));
    expect((await body(await confirm(cart, retry.id, CARDS.ok))).status).toBe("completed");
    expect(await stockOf(sku)).toEqual({ available: 0, reserved: 0, sold: 2 });
  });

  it("re-reserves and completes when a payment succeeds after its reservation lapsed but stock remains", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const started = await body(await checkout(cart));
    await forceReleaseCheckoutStock(cart.id);
    expect(await stockOf(sku)).toMatchObject({ reserved: 0 });
    const paid = await body(await confirm(cart, started.id, CARDS.ok));
    expect(paid.status).toBe("completed");
    expect(await stockOf(sku)).toEqual({ available: 4, reserved: 0, sold: 1 });
  });

  it("refunds and flags the order, never overselling, when a payment succeeds after its stock was sold to someone else", async () => {
    const sku = await stockedSku(1);
    const late = await readyCart([{ sku, quantity: 1 }]);
    const lateCheckout = await body(await checkout(late));
    await forceReleaseCheckoutStock(late.id);
    const quick = await readyCart([{ sku, quantity: 1 }]);
    const quickCheckout = await body(await checkout(quick));
    expect((await body(await confirm(quick, quickCheckout.id, CARDS.ok))).status).toBe("completed");

    const lost = await body(await confirm(late, lateCheckout.id, CARDS.ok));
    expect(lost).toMatchObject({
      status: "failed",
      failure: { code: "stock_lost_refunded" },
      order: { id: expect.any(String) },
    });
    const [order] = await ordersFor(lateCheckout.id);
    expect(JSON.parse(order?.flags ?? "[]")).toContain("stock_lost_refunded");
    expect(order?.refunded_total).toBe(lateCheckout.totals.total.amount);
    // Nothing to fulfil: the order is announced and refunded, never reported paid to fulfilment.
    expect(await orderEvents(order?.id ?? "")).toEqual(["order.placed", "order.refunded"]);
    expect(await stockOf(sku)).toEqual({ available: 0, reserved: 0, sold: 1 });
    // The shopper's cart is open again (they can try later).
    const cartNow = await body<{ status: string }>(
      await call(`/api/carts/${late.id}`, { headers: late.headers }),
    );
    expect(cartNow.status).toBe("open");
  });
});

/** Simulates reservations lapsing: releases every hold the cart's checkouts rely on. */
async function forceReleaseCheckoutStock(cartId: string) {
  const holds = await runInDurableObject(cartObject(cartId), (_instance, state) =>
    state.storage.sql
      .exec<{ reservations: string }>("SELECT reservations FROM checkouts")
      .toArray()
      .flatMap((row) => JSON.parse(row.reservations) as { sku: string; reservation_id: string }[]),
  );
  for (const hold of holds) {
    await releaseReservation(env, { sku: hold.sku, reservationId: hold.reservation_id });
  }
}

describe("promotion limits at checkout", () => {
  it("never redeems a limited code more often than allowed when many carts check out at once", async () => {
    const sku = await stockedSku(100);
    const { id, code } = await seedPromotion({ type: "percentage", percentage_bp: 1000, usage_limit: 3 });
    const carts = await Promise.all(
      Array.from({ length: 8 }, () => readyCart([{ sku, quantity: 1 }], { promotion: code })),
    );
    const responses = await Promise.all(carts.map((cart) => checkout(cart)));
    const started = responses.filter((res) => res.status === 201);
    expect(started).toHaveLength(3);
    for (const res of responses.filter((r) => r.status !== 201)) {
      await expectProblem(res, 409, "promotion_unavailable");
    }
    const timesUsed = async () =>
      (
        await env.DB.prepare("SELECT times_used AS n FROM promotions WHERE id = ?1")
          .bind(id)
          .first<{ n: number }>()
      )?.n;
    expect(await timesUsed()).toBe(3);
    // Refused checkouts gave their stock back.
    expect(await stockOf(sku)).toMatchObject({ reserved: 3 });

    // A failed payment gives its use back; a completed one keeps it.
    const startedBodies = await Promise.all(started.map((res) => body<CheckoutBody>(res)));
    const [first, second] = startedBodies;
    const cartOf = (checkoutBody: CheckoutBody | undefined) =>
      carts.find((cart) => cart.id === checkoutBody?.cart_id);
    const firstCart = cartOf(first);
    const secondCart = cartOf(second);
    if (!first || !second || !firstCart || !secondCart) throw new Error("missing checkouts");
    expect((await body(await confirm(firstCart, first.id, CARDS.declined))).status).toBe("failed");
    expect((await body(await confirm(secondCart, second.id, CARDS.ok))).status).toBe("completed");
    expect(await timesUsed()).toBe(2);
  });
});

describe("flash-sale reservations in the cart", () => {
  it("reserves at add-to-cart and refuses clearly when sold out", async () => {
    const sku = await stockedSku(3, { flash: true });
    const a = await newCart();
    const added = await body<{ lines: { reservation: { id: string } | null }[] }>(
      await callJson(`/api/carts/${a.id}/lines`, "POST", { sku, quantity: 3 }, a.headers),
    );
    expect(added.lines[0]?.reservation?.id).toMatch(/^res_/);
    expect(await stockOf(sku)).toEqual({ available: 0, reserved: 3, sold: 0 });
    const b = await newCart();
    const problem = await expectProblem(
      await callJson(`/api/carts/${b.id}/lines`, "POST", { sku, quantity: 1 }, b.headers),
      409,
      "sold_out",
    );
    expect(problem).toMatchObject({ sku, available: 0 });
  });

  it("keeps one reservation per cart and SKU, so duplicate adds and updates racing adds never double-allocate", async () => {
    const sku = await stockedSku(50, { flash: true });
    const cart = await newCart();
    await Promise.all(
      Array.from({ length: 5 }, () =>
        callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity: 2 }, cart.headers),
      ),
    );
    const afterAdds = await body<{ lines: { id: string; quantity: number }[] }>(
      await call(`/api/carts/${cart.id}`, { headers: cart.headers }),
    );
    expect(afterAdds.lines).toHaveLength(1);
    expect(await stockOf(sku)).toMatchObject({ reserved: 10 });
    const lineId = afterAdds.lines[0]?.id;
    await Promise.all([
      callJson(`/api/carts/${cart.id}/lines/${lineId}`, "PATCH", { quantity: 4 }, cart.headers),
      callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity: 3 }, cart.headers),
    ]);
    const final = await body<{ lines: { quantity: number }[] }>(
      await call(`/api/carts/${cart.id}`, { headers: cart.headers }),
    );
    expect(await stockOf(sku)).toMatchObject({ reserved: final.lines[0]?.quantity });
    // Checkout reuses the line's hold instead of taking a second one.
    await callJson(`/api/carts/${cart.id}/email`, "PUT", { email: "flash@example.com" }, cart.headers);
    await callJson(
      `/api/carts/${cart.id}/shipping-address`,
      "PUT",
      { name: "A", line1: "1 St", city: "X", postal_code: "1", country: "US" },
      cart.headers,
    );
    await callJson(`/api/carts/${cart.id}/shipping-method`, "PUT", { id: "us_standard" }, cart.headers);
    const started = await body(await checkout(cart));
    expect(await stockOf(sku)).toMatchObject({ reserved: final.lines[0]?.quantity });
    expect((await body(await confirm(cart, started.id, CARDS.ok))).status).toBe("completed");
    expect(await stockOf(sku)).toMatchObject({ reserved: 0, sold: final.lines[0]?.quantity });
  });

  it("releases a removed line's stock, and all of a cart's stock when the cart expires", async () => {
    const sku = await stockedSku(10, { flash: true });
    const other = await stockedSku(10, { flash: true });
    const cart = await newCart();
    await callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity: 4 }, cart.headers);
    const withBoth = await body<{ lines: { id: string; sku: string }[] }>(
      await callJson(`/api/carts/${cart.id}/lines`, "POST", { sku: other, quantity: 2 }, cart.headers),
    );
    const otherLine = withBoth.lines.find((line) => line.sku === other);
    await call(`/api/carts/${cart.id}/lines/${otherLine?.id}`, { method: "DELETE", headers: cart.headers });
    expect(await stockOf(other)).toEqual({ available: 10, reserved: 0, sold: 0 });
    expect(await stockOf(sku)).toMatchObject({ reserved: 4 });

    const stub = cartObject(cart.id);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE cart SET expires_at = ?", Date.now() - 1);
    });
    await runDurableObjectAlarm(stub);
    expect(await stockOf(sku)).toEqual({ available: 10, reserved: 0, sold: 0 });
    await expectProblem(
      await call(`/api/carts/${cart.id}`, { headers: cart.headers }),
      404,
      "cart_not_found",
    );
  });
});
