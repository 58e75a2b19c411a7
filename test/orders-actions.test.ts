import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { commitReservation, getInventory, reserveStock } from "../workers/inventory/service";
import { orderEventId } from "../workers/orders/events";
import { placeOrder } from "../workers/orders/service";
import { confirmTestPayment, TEST_CARDS, TestPaymentProvider } from "../workers/payments/test-provider";
import { ADMIN, callJson, expectProblem } from "./helpers";
import { randomSku, stockSku } from "./inventory-fixtures";

const uid = () => crypto.randomUUID().replaceAll("-", "");

/** A paid order for 3 units of a fresh SKU (stock 10), its reservation committed as checkout does. */
async function paidOrderWithStock() {
  const sku = randomSku("CANCEL");
  await stockSku(sku, 10);
  const checkoutId = `chk_${uid()}`;
  const reserved = await reserveStock(env, { sku, holder: checkoutId, quantity: 3, key: `r:${checkoutId}` });
  if (!reserved.ok) throw new Error(`reserve failed: ${reserved.reason}`);
  const provider = new TestPaymentProvider(env);
  const session = await provider.createPayment({
    checkoutId,
    cartId: "cart_x",
    amount: { amount: 3000, currency: "USD" },
    idempotencyKey: `create:${checkoutId}`,
  });
  await confirmTestPayment(env, session.payment_id, TEST_CARDS.succeeds);
  const { order } = await placeOrder(env, {
    checkout_id: checkoutId,
    cart_id: "cart_x",
    email: "buyer@example.com",
    currency: "USD",
    lines: [
      {
        sku,
        variant_id: "var_x",
        product_id: "prod_x",
        title: "Drop hoodie",
        quantity: 3,
        unit_price: 1000,
        total: 3000,
        reservation_id: reserved.reservation.id,
      },
    ],
    subtotal: 3000,
    discount_total: 0,
    shipping_total: 0,
    tax_total: 0,
    total: 3000,
    tax_inclusive: false,
    shipping_method: { id: "standard", name: "Standard", amount: 0 },
    payment: { provider: "test", payment_id: session.payment_id, amount: 3000, status: "succeeded" },
    flags: [],
  });
  const committed = await commitReservation(env, {
    sku,
    reservationId: reserved.reservation.id,
    orderId: order.id,
  });
  if (!committed.ok) throw new Error(`commit failed: ${committed.reason}`);
  return { order, sku };
}

const act = (orderId: string, action: "cancel" | "fulfilments", body: unknown) =>
  callJson(`/admin/api/orders/${orderId}/${action}`, "POST", body, ADMIN);

async function outboxTypes(orderId: string) {
  const { results } = await env.DB.prepare(
    "select type from outbox where aggregate_id = ? order by created_at, rowid",
  )
    .bind(orderId)
    .all<{ type: string }>();
  return results.map((r) => r.type);
}

describe("admin order actions", () => {
  it("cancels an unshipped order, restocking and refunding exactly once however often it is repeated", async () => {
    const { order, sku } = await paidOrderWithStock();
    expect((await getInventory(env, sku)).sold).toBe(3);

    const results = await Promise.all([
      act(order.id, "cancel", { reason: "customer asked" }),
      act(order.id, "cancel", { reason: "customer asked" }),
    ]);
    for (const res of results) expect(res.status).toBe(200);
    const again = await act(order.id, "cancel", {});
    expect(again.status).toBe(200);
    const body = (await again.json()) as {
      changed: boolean;
      order: {
        status: string;
        refunds: { amount: { amount: number } }[];
        refunded_total: { amount: number };
      };
    };
    expect(body.changed).toBe(false);
    expect(body.order.status).toBe("cancelled");
    expect(body.order.refunds).toHaveLength(1);
    expect(body.order.refunded_total.amount).toBe(3000);

    const stock = await getInventory(env, sku);
    expect({ sold: stock.sold, available: stock.available, on_hand: stock.on_hand }).toEqual({
      sold: 0,
      available: 10,
      on_hand: 10,
    });
    expect((await outboxTypes(order.id)).filter((t) => t === "order.cancelled")).toHaveLength(1);
  });

  it("moves an order through fulfilling → shipped (with tracking) → delivered, recording each once", async () => {
    const { order } = await paidOrderWithStock();
    expect((await act(order.id, "fulfilments", { status: "fulfilling" })).status).toBe(200);
    const shipped = await act(order.id, "fulfilments", {
      status: "shipped",
      tracking: { carrier: "UPS", number: "1Z999", url: "https://track.example/1Z999" },
    });
    expect(((await shipped.json()) as { order: { status: string } }).order.status).toBe("shipped");
    const repeat = await act(order.id, "fulfilments", {
      status: "shipped",
      tracking: { carrier: "UPS", number: "1Z999" },
    });
    expect(((await repeat.json()) as { changed: boolean }).changed).toBe(false);
    expect((await act(order.id, "fulfilments", { status: "delivered" })).status).toBe(200);

    expect(await outboxTypes(order.id)).toEqual([
      "order.placed",
      "order.paid",
      "fulfilment.fulfilling",
      "fulfilment.shipped",
      "fulfilment.delivered",
    ]);
    const shippedEvent = await env.DB.prepare("select payload from outbox where id = ?")
      .bind(await orderEventId(order.id, "fulfilment.shipped"))
      .first<{ payload: string }>();
    expect(JSON.parse(shippedEvent?.payload ?? "{}")).toMatchObject({
      tracking: { carrier: "UPS", number: "1Z999" },
    });
  });

  it("refuses illegal transitions with a clear problem", async () => {
    const { order } = await paidOrderWithStock();
    await act(order.id, "fulfilments", { status: "shipped", tracking: { carrier: "DHL", number: "42" } });
    const cancel = await act(order.id, "cancel", { reason: "too late" });
    const problem = await expectProblem(cancel, 409, "illegal_transition");
    expect(problem).toMatchObject({ status: 409, order_status: "shipped", requested_status: "cancelled" });

    const { order: other } = await paidOrderWithStock();
    await act(other.id, "cancel", {});
    await expectProblem(await act(other.id, "fulfilments", { status: "shipped" }), 409, "illegal_transition");
  });

  it("validates input and guards with scopes", async () => {
    const { order } = await paidOrderWithStock();
    await expectProblem(
      await act(order.id, "fulfilments", { status: "teleported" }),
      422,
      "validation_failed",
    );
    await expectProblem(
      await act(order.id, "fulfilments", { status: "shipped", extra: 1 }),
      422,
      "validation_failed",
    );
    await expectProblem(await act("ord_missing", "cancel", {}), 404, "order_not_found");
    await expectProblem(
      await callJson(
        `/admin/api/orders/${order.id}/cancel`,
        "POST",
        {},
        { authorization: "Bearer catalog-reader-token" },
      ),
      403,
      "forbidden",
    );
    await expectProblem(
      await callJson(`/admin/api/orders/${order.id}/cancel`, "POST", {}),
      401,
      "unauthorized",
    );
  });
});
