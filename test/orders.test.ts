import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../workers/edge/app";
import { sha256Hex } from "../workers/lib/crypto";
import { OrderEventSchema, orderEventId } from "../workers/orders/events";
import { recordRefund, refundOrder } from "../workers/orders/refunds";
import type { OrderDraft, OrderView } from "../workers/orders/schemas";
import { placeOrder } from "../workers/orders/service";
import { StripePaymentProvider } from "../workers/payments/stripe-provider";
import { FakeStripe } from "./fakes/fake-stripe";
import { ADMIN, call, callJson, expectProblem } from "./helpers";
import { paidOrder } from "./order-fixtures";

const uid = () => crypto.randomUUID().replaceAll("-", "");

function draft(overrides: Partial<OrderDraft> = {}): OrderDraft {
  return {
    checkout_id: `chk_${uid()}`,
    cart_id: `cart_${uid()}`,
    email: `shopper-${uid()}@example.com`,
    currency: "USD",
    lines: [
      {
        sku: "TEE-M",
        variant_id: "var_1",
        product_id: "prod_1",
        title: "Tee",
        variant_title: "M",
        quantity: 2,
        unit_price: 2000,
        discount: 200,
        tax: 0,
        total: 3800,
      },
      {
        sku: "MUG",
        variant_id: "var_2",
        product_id: "prod_2",
        title: "Mug",
        variant_title: "",
        quantity: 1,
        unit_price: 1200,
        discount: 0,
        tax: 0,
        total: 1200,
      },
    ],
    subtotal: 5200,
    discount_total: 200,
    shipping_total: 500,
    tax_total: 0,
    total: 5500,
    tax_inclusive: false,
    shipping_address: {
      name: "Ada",
      line1: "1 Loop St",
      city: "Springfield",
      country: "US",
      postal_code: "12345",
    },
    shipping_method: { id: "standard", name: "Standard", amount: 500 },
    promotion_codes: ["WELCOME10"],
    payment: {
      provider: "test",
      payment_id: `pay_${uid()}`,
      amount: { amount: 5500, currency: "USD" },
      status: "succeeded",
    },
    flags: [],
    ...overrides,
  };
}

const refund = (orderId: string, body?: unknown, headers: Record<string, string> = {}) =>
  body === undefined
    ? call(`/admin/api/orders/${orderId}/refunds`, { method: "POST", headers: { ...ADMIN, ...headers } })
    : callJson(`/admin/api/orders/${orderId}/refunds`, "POST", body, { ...ADMIN, ...headers });

describe("placing orders", () => {
  it("writes the order, line snapshots, payment record and first status, with a PC- number and a lookup token", async () => {
    const input = draft();
    const { order, created, lookup_token } = await placeOrder(env, input);
    expect(created).toBe(true);
    expect(order.id).toMatch(/^ord_/);
    expect(order.number).toMatch(/^PC-\d{6,}$/);
    expect(order).toMatchObject({
      status: "paid",
      payment_status: "paid",
      email: input.email,
      total: { amount: 5500, currency: "USD" },
      shipping_method: { id: "standard", name: "Standard", amount: { amount: 500, currency: "USD" } },
      promotion_codes: ["WELCOME10"],
      payments: [
        { provider: "test", payment_id: input.payment.payment_id, amount: { amount: 5500, currency: "USD" } },
      ],
    });
    expect(order.lines.map((l) => [l.sku, l.quantity, l.unit_price.amount, l.discount.amount])).toEqual([
      ["TEE-M", 2, 2000, 200],
      ["MUG", 1, 1200, 0],
    ]);
    expect(lookup_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await env.DB.prepare("SELECT lookup_token_hash FROM orders WHERE id = ?")
      .bind(order.id)
      .first();
    expect(stored?.lookup_token_hash).toBe(await sha256Hex(lookup_token ?? ""));
  });

  it("is idempotent by checkout: a replay returns the same order and consumes no order number", async () => {
    const first = draft();
    const a = await placeOrder(env, first);
    const replay = await placeOrder(env, { ...first, total: 1 });
    expect(replay.created).toBe(false);
    expect(replay.order.id).toBe(a.order.id);
    expect(replay.order.total.amount).toBe(5500);
    expect(replay.lookup_token).toBeNull();
    const b = await placeOrder(env, draft());
    expect(Number(b.order.number.slice(3))).toBe(Number(a.order.number.slice(3)) + 1);
  });

  it("turns 20 concurrent placements of the same checkout into exactly one order", async () => {
    const input = draft();
    const results = await Promise.all(Array.from({ length: 20 }, () => placeOrder(env, input)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    const counts = await env.DB.prepare(
      `SELECT (SELECT COUNT(*) FROM orders WHERE checkout_id = ?1) AS orders,
              (SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.checkout_id = ?1) AS lines,
              (SELECT COUNT(*) FROM order_payments p JOIN orders o ON o.id = p.order_id WHERE o.checkout_id = ?1) AS payments`,
    )
      .bind(input.checkout_id)
      .first();
    expect(counts).toEqual({ orders: 1, lines: 2, payments: 1 });
    const outbox = await env.DB.prepare("SELECT type FROM outbox WHERE aggregate_id = ? ORDER BY type")
      .bind(results[0]?.order.id)
      .all<{ type: string }>();
    expect(outbox.results.map((r) => r.type)).toEqual(["order.paid", "order.placed"]);
  });

  it("gives concurrent different checkouts distinct numbers", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => placeOrder(env, draft())));
    expect(new Set(results.map((r) => r.order.number)).size).toBe(20);
  });

  it("keeps a caller-chosen lookup token across replays", async () => {
    const token = `tok_${uid()}${uid()}`;
    const input = draft({ lookup_token: token });
    expect((await placeOrder(env, input)).lookup_token).toBe(token);
    expect((await placeOrder(env, input)).lookup_token).toBe(token);
  });

  it("refuses a malformed draft instead of writing half an order", async () => {
    await expect(placeOrder(env, draft({ lines: [] }))).rejects.toThrow();
    await expect(placeOrder(env, draft({ total: -1 }))).rejects.toThrow();
  });

  it("writes order.placed and order.paid to the outbox in the same batch, with the order number", async () => {
    const input = draft();
    const { order } = await placeOrder(env, input);
    const rows = await env.DB.prepare(
      "SELECT type, payload FROM outbox WHERE aggregate_id = ? ORDER BY type DESC",
    )
      .bind(order.id)
      .all<{ type: string; payload: string }>();
    const events = rows.results.map((row) => OrderEventSchema.parse(JSON.parse(row.payload)));
    expect(events.map((e) => e.type)).toEqual(["order.placed", "order.paid"]);
    for (const event of events) {
      if (event.type !== "order.placed" && event.type !== "order.paid") throw new Error("unexpected event");
      expect(event.order_id).toBe(order.id);
      expect(event.order).toMatchObject({
        order_number: order.number,
        email: input.email,
        total: 5500,
        currency: "USD",
      });
      expect(event.order.lines).toEqual([
        { sku: "TEE-M", title: "Tee (M)", quantity: 2, unit_price: 2000 },
        { sku: "MUG", title: "Mug", quantity: 1, unit_price: 1200 },
      ]);
    }
    expect(rows.results.map((r) => (JSON.parse(r.payload) as { id: string }).id)).toEqual([
      await orderEventId(order.id, "order.placed"),
      await orderEventId(order.id, "order.paid"),
    ]);
    expect(events[1]).toMatchObject({
      payment: { provider: "test", payment_id: input.payment.payment_id, amount: 5500 },
    });
  });
});

describe("orders held back from fulfilment", () => {
  it("announces a stock-lost order as placed but never as paid, so it is not handed off", async () => {
    const { order } = await placeOrder(env, draft({ flags: ["stock_lost_refunded"] }));
    const rows = await env.DB.prepare("SELECT type FROM outbox WHERE aggregate_id = ?")
      .bind(order.id)
      .all<{ type: string }>();
    expect(rows.results.map((r) => r.type)).toEqual(["order.placed"]);
  });
});

describe("guest order lookup", () => {
  it("shows the order for its token and 404s a wrong token, an unknown order or another order's token", async () => {
    const mine = await placeOrder(env, draft());
    const theirs = await placeOrder(env, draft());
    const ok = await call(`/api/orders/${mine.order.id}?token=${mine.lookup_token}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as OrderView).number).toBe(mine.order.number);
    await expectProblem(await call(`/api/orders/${mine.order.id}?token=wrong`), 404, "order_not_found");
    await expectProblem(
      await call(`/api/orders/${mine.order.id}?token=${theirs.lookup_token}`),
      404,
      "order_not_found",
    );
    await expectProblem(
      await call(`/api/orders/ord_nope?token=${mine.lookup_token}`),
      404,
      "order_not_found",
    );
    await expectProblem(await call(`/api/orders/${mine.order.id}`), 422, "validation_failed");
  });
});

describe("admin orders API", () => {
  it("filters by email, status and created range, and paginates without gaps or repeats", async () => {
    const email = `list-${uid()}@example.com`;
    const placed: string[] = [];
    for (let i = 0; i < 5; i++) placed.push((await placeOrder(env, draft({ email }))).order.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const qs = new URLSearchParams({
        email: email.toUpperCase(),
        limit: "2",
        ...(cursor ? { cursor } : {}),
      });
      const res = await call(`/admin/api/orders?${qs}`, { headers: ADMIN });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((o) => o.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...placed].reverse());

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await call(`/admin/api/orders?email=${email}&created_from=${future}`, { headers: ADMIN });
    expect(((await none.json()) as { items: unknown[] }).items).toHaveLength(0);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const all = await call(
      `/admin/api/orders?email=${email}&created_from=${past}&created_to=${future}&status=paid`,
      {
        headers: ADMIN,
      },
    );
    expect(((await all.json()) as { items: unknown[] }).items).toHaveLength(5);
    const shipped = await call(`/admin/api/orders?email=${email}&status=shipped`, { headers: ADMIN });
    expect(((await shipped.json()) as { items: unknown[] }).items).toHaveLength(0);
    await expectProblem(
      await call("/admin/api/orders?cursor=garbage", { headers: ADMIN }),
      422,
      "validation_failed",
    );
    await expectProblem(
      await call("/admin/api/orders?status=lost", { headers: ADMIN }),
      422,
      "validation_failed",
    );
  });

  it("shows one order with payments, status history and the events it produced", async () => {
    const { order } = await placeOrder(env, draft({ flags: ["stock_lost_refunded"] }));
    const res = await call(`/admin/api/orders/${order.id}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as OrderView & {
      status_history: { status: string; note: string | null }[];
      events: { type: string }[];
      deliveries: unknown[];
    };
    expect(body.payments).toHaveLength(1);
    expect(body.flags).toEqual(["stock_lost_refunded"]);
    expect(body.status_history).toEqual([
      expect.objectContaining({ status: "placed", note: "flags: stock_lost_refunded" }),
      expect.objectContaining({ status: "paid" }),
    ]);
    // Held back from fulfilment by its flag: announced, never reported paid.
    expect(body.events.map((e) => e.type)).toEqual(["order.placed"]);
    expect(body.deliveries).toEqual([]);
    await expectProblem(
      await call("/admin/api/orders/ord_missing", { headers: ADMIN }),
      404,
      "order_not_found",
    );
  });

  it("requires a bearer token (401) with the right scope (403)", async () => {
    const { order } = await placeOrder(env, draft());
    await expectProblem(await call("/admin/api/orders"), 401, "unauthorized");
    await expectProblem(
      await call("/admin/api/orders", { headers: { authorization: "Bearer nope" } }),
      401,
      "unauthorized",
    );
    const readOnly = `ro-${uid()}`;
    const scopedEnv = {
      ...env,
      ADMIN_TOKENS: JSON.stringify([
        { id: "support", sha256: await sha256Hex(readOnly), scopes: ["orders:read"] },
      ]),
    };
    const app = createApp();
    const auth = { authorization: `Bearer ${readOnly}` };
    expect((await app.request(`/admin/api/orders/${order.id}`, { headers: auth }, scopedEnv)).status).toBe(
      200,
    );
    const denied = await app.request(
      `/admin/api/orders/${order.id}/refunds`,
      { method: "POST", headers: auth },
      scopedEnv,
    );
    await expectProblem(denied, 403, "forbidden");
    expect(
      (
        await env.DB.prepare("SELECT COUNT(*) AS n FROM order_refunds WHERE order_id = ?")
          .bind(order.id)
          .first()
      )?.n,
    ).toBe(0);
  });
});

describe("refunds", () => {
  it("refunds partially then fully through the test provider, replays a key, and refuses over-refunds", async () => {
    const { order } = await paidOrder({ total: 5500 });
    const partial = await refund(
      order.id,
      { amount: { amount: 1500, currency: "USD" }, reason: "damaged" },
      { "idempotency-key": "r-1" },
    );
    expect(partial.status).toBe(201);
    const first = (await partial.json()) as { refund: { id: string; status: string }; order: OrderView };
    expect(first.refund.status).toBe("succeeded");
    expect(first.order).toMatchObject({
      payment_status: "partially_refunded",
      refunded_total: { amount: 1500 },
    });

    const replay = await refund(
      order.id,
      { amount: { amount: 1500, currency: "USD" }, reason: "damaged" },
      { "idempotency-key": "r-1" },
    );
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { refund: { id: string } }).refund.id).toBe(first.refund.id);
    await expectProblem(
      await refund(order.id, { amount: { amount: 999, currency: "USD" } }, { "idempotency-key": "r-1" }),
      422,
      "idempotency_key_reused",
    );

    const over = await expectProblem(
      await refund(order.id, { amount: { amount: 4001, currency: "USD" } }),
      409,
      "refund_exceeds_refundable",
    );
    expect(over).toMatchObject({ refundable: { amount: 4000, currency: "USD" } });

    const full = await refund(order.id);
    expect(full.status).toBe(201);
    const rest = (await full.json()) as { refund: { amount: { amount: number } }; order: OrderView };
    expect(rest.refund.amount.amount).toBe(4000);
    expect(rest.order).toMatchObject({
      status: "refunded",
      payment_status: "refunded",
      refunded_total: { amount: 5500 },
    });
    // Un-keyed and identical moments later: the same full refund, not a new one.
    expect((await refund(order.id, {})).status).toBe(200);
    await expectProblem(
      await refund(order.id, {}, { "idempotency-key": "r-2" }),
      409,
      "order_fully_refunded",
    );

    const payment = await env.DB.prepare("SELECT refunded_amount FROM test_payments WHERE id = ?")
      .bind(order.payments[0]?.payment_id)
      .first();
    expect(payment?.refunded_amount).toBe(5500);
    const history = (await (await call(`/admin/api/orders/${order.id}`, { headers: ADMIN })).json()) as {
      status_history: { status: string }[];
    };
    expect(history.status_history.map((h) => h.status)).toEqual([
      "placed",
      "paid",
      "partially_refunded",
      "refunded",
      "refunded",
    ]);
    const refunded = await env.DB.prepare(
      "SELECT payload FROM outbox WHERE aggregate_id = ? AND type = 'order.refunded' ORDER BY created_at",
    )
      .bind(order.id)
      .all<{ payload: string }>();
    const events = refunded.results.map((r) => OrderEventSchema.parse(JSON.parse(r.payload)));
    expect(
      events.map((e) => (e.type === "order.refunded" ? [e.refund.amount, e.fully_refunded] : null)),
    ).toEqual([
      [1500, false],
      [4000, true],
    ]);
  });

  it("refunds once when an un-keyed request is double-submitted, at once or moments later", async () => {
    const { order } = await paidOrder({ total: 3000 });
    const body = { amount: { amount: 1000, currency: "USD" } };
    const responses = await Promise.all([refund(order.id, body), refund(order.id, body)]);
    expect(responses.map((r) => r.status).sort()).toEqual([200, 201]);
    expect((await refund(order.id, body)).status).toBe(200);
    const row = await env.DB.prepare("SELECT refunded_total FROM orders WHERE id = ?").bind(order.id).first();
    expect(row?.refunded_total).toBe(1000);
    // A different amount is a different refund.
    expect((await refund(order.id, { amount: { amount: 500, currency: "USD" } })).status).toBe(201);
  });

  it("never refunds more than the order total under concurrent refunds", async () => {
    const { order } = await paidOrder({ total: 1000 });
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        refund(order.id, { amount: { amount: 300, currency: "USD" } }, { "idempotency-key": `c-${i}` }),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(3);
    expect(responses.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const row = await env.DB.prepare("SELECT refunded_total FROM orders WHERE id = ?").bind(order.id).first();
    expect(row?.refunded_total).toBe(900);
  });

  it("rejects bad refund input with 422 and unknown orders with 404", async () => {
    const { order } = await paidOrder({ total: 1000 });
    await expectProblem(
      await refund(order.id, { amount: { amount: 100, currency: "EUR" } }),
      422,
      "validation_failed",
    );
    await expectProblem(
      await refund(order.id, { amount: { amount: 0, currency: "USD" } }),
      422,
      "validation_failed",
    );
    await expectProblem(
      await refund(order.id, { amount: { amount: -5, currency: "USD" } }),
      422,
      "validation_failed",
    );
    await expectProblem(await refund(order.id, { amount: "lots" }), 422, "validation_failed");
    await expectProblem(
      await refund(order.id, { amount: { amount: 1, currency: "USD" }, extra: 1 }),
      422,
      "validation_failed",
    );
    await expectProblem(await refund("ord_missing", {}), 404, "order_not_found");
  });

  it("refunds through Stripe (fake API) and records a provider refusal without counting it", async () => {
    const fake = new FakeStripe();
    const stripe = new StripePaymentProvider(fake.secretKey, fake.fetch);
    const checkoutId = `chk_${uid()}`;
    const session = await stripe.createPayment({
      checkoutId,
      cartId: "cart_s",
      amount: { amount: 5500, currency: "USD" },
      idempotencyKey: `create:${checkoutId}`,
    });
    fake.settle(session.payment_id, "succeeded");
    const { order } = await placeOrder(
      env,
      draft({
        checkout_id: checkoutId,
        payment: { provider: "stripe", payment_id: session.payment_id, amount: 5500, status: "succeeded" },
      }),
    );
    const partial = await refundOrder(env, stripe, {
      orderId: order.id,
      amount: { amount: 2000, currency: "USD" },
      idempotencyKey: "s-1",
    });
    expect(partial.refund).toMatchObject({ status: "succeeded", amount: { amount: 2000 } });
    expect(partial.refund.provider_refund_id).toMatch(/^re_/);
    expect(fake.intents.get(session.payment_id)?.amount_refunded).toBe(2000);

    // Someone refunds 3000 in the Stripe dashboard; our order does not know yet.
    fake.refundInDashboard(session.payment_id, 3000);
    const refused = await refundOrder(env, stripe, { orderId: order.id, idempotencyKey: "s-2" }).catch(
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ status: 409, code: "refund_refused" });
    const after = await env.DB.prepare("SELECT refunded_total, payment_status FROM orders WHERE id = ?")
      .bind(order.id)
      .first();
    expect(after).toEqual({ refunded_total: 2000, payment_status: "partially_refunded" });

    const rest = await refundOrder(env, stripe, {
      orderId: order.id,
      amount: { amount: 500, currency: "USD" },
      idempotencyKey: "s-3",
    });
    expect(rest.order.refunded_total.amount).toBe(2500);
    expect(
      fake.requests
        .filter((r) => r.path === "/v1/refunds")
        .every((r) => r.idempotencyKey?.startsWith(`popcart:${order.id}:refund:`)),
    ).toBe(true);
  });

  it("records refunds made elsewhere idempotently by refund id, within the order total", async () => {
    const { order } = await placeOrder(env, draft());
    const once = await recordRefund(env, {
      orderId: order.id,
      refund_id: "re_auto_1",
      amount: 5500,
      reason: "stock_lost",
    });
    expect(once).toMatchObject({ payment_status: "refunded", refunded_total: { amount: 5500 } });
    const again = await recordRefund(env, { orderId: order.id, refund_id: "re_auto_1", amount: 5500 });
    expect(again.refunds).toHaveLength(1);
    await expect(
      recordRefund(env, { orderId: order.id, refund_id: "re_auto_2", amount: 1 }),
    ).rejects.toMatchObject({
      status: 409,
      code: "order_fully_refunded",
    });
  });
});
