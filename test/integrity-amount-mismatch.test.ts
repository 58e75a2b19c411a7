import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { body, checkout, deliverWebhook, ordersFor, readyStripeCart, stockedSku } from "./checkout-fixtures";
import { useFakeStripe } from "./fakes/fake-stripe";

const stripe = useFakeStripe();

describe("a payment for the wrong amount", () => {
  it("becomes an order held from fulfilment, with an alert", async () => {
    const sku = await stockedSku(5, { price: 1999 });
    const cart = await readyStripeCart(stripe().secretKey, [{ sku, quantity: 1 }]);
    const points: AnalyticsEngineDataPoint[] = [];
    await runInDurableObject(env.CART.get(env.CART.idFromName(cart.id)), (instance) => {
      const object = instance as unknown as { env: Env };
      object.env = {
        ...object.env,
        METRICS: { writeDataPoint: (point?: AnalyticsEngineDataPoint) => point && points.push(point) },
      };
    });
    const started = await body(await checkout(cart));
    stripe().settle(started.payment?.payment_id ?? "", "succeeded");
    // The provider reports 1 minor unit captured for a 1999 order.
    const underpaid = { ...started, totals: { total: { amount: 1, currency: "USD" } } };
    expect((await deliverWebhook(underpaid, "payment_intent.succeeded")).status).toBe(200);

    const [order] = await ordersFor(started.id);
    expect(JSON.parse(order?.flags ?? "[]")).toContain("payment_amount_mismatch");
    const { results } = await env.DB.prepare("SELECT type FROM outbox WHERE aggregate_id = ?1")
      .bind(order?.id)
      .all<{ type: string }>();
    expect(results.map((row) => row.type)).toEqual(["order.placed"]);
    expect(points.map((point) => point.blobs?.slice(0, 4))).toContainEqual([
      "alert",
      "order_held_from_fulfilment",
      expect.stringMatching(/^PC-/),
      "payment_amount_mismatch",
    ]);
  });
});
