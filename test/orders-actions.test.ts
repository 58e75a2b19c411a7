import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getInventory } from "../workers/inventory/service";
import { orderEventId } from "../workers/orders/events";
import { ADMIN, callJson, expectProblem } from "./helpers";
import { paidOrderWithStock } from "./order-fixtures";

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
