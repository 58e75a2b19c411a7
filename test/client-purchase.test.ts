import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createPopcartClient, must, PopcartProblem } from "../client/index";
import { purchase } from "../client/purchase";
import { CARDS, stockedSku } from "./checkout-fixtures";
import { US_ADDRESS } from "./revenue-fixtures";

// The typed client talks to the worker itself, exactly as over the network.
const api = createPopcartClient({
  baseUrl: "http://popcart.test",
  fetch: (request) => exports.default.fetch(request),
});

async function productOnSale(price: number) {
  const sku = await stockedSku(5, { price });
  const row = await env.DB.prepare(
    "SELECT p.slug FROM products p JOIN variants v ON v.product_id = p.id WHERE v.sku = ?",
  )
    .bind(sku)
    .first<{ slug: string }>();
  if (!row) throw new Error(`no product for ${sku}`);
  return { sku, slug: row.slug };
}

describe("typed client (client/)", () => {
  it("makes a whole purchase: product, cart, details, checkout, test card, order", async () => {
    const { sku, slug } = await productOnSale(2500);
    const order = await purchase(api, { slug, email: "client@example.com", address: US_ADDRESS });
    expect(order.email).toBe("client@example.com");
    expect(order.payment_status).toBe("paid");
    expect(order.lines.map((line) => [line.sku, line.quantity])).toEqual([[sku, 1]]);
    expect(order.subtotal).toEqual({ amount: 2500, currency: "USD" });
    expect(order.total.amount).toBe(
      order.subtotal.amount -
        order.discount_total.amount +
        order.shipping_total.amount +
        order.tax_total.amount,
    );
  });

  it("stops at a declined card with the checkout's failure and places no order", async () => {
    const { slug } = await productOnSale(1200);
    await expect(
      purchase(api, { slug, email: "declined@example.com", address: US_ADDRESS, card: CARDS.declined }),
    ).rejects.toThrow(/failed/);
  });

  it("surfaces a refusal as the API's problem with its stable code", async () => {
    const missing = api.GET("/api/carts/{id}", {
      params: { path: { id: "cart_doesnotexist0000000" } },
      headers: { "X-Cart-Token": "wrong" },
    });
    const error = await must(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PopcartProblem);
    expect((error as PopcartProblem).status).toBe(404);
    expect((error as PopcartProblem).problem.code).toMatch(/not_found/);
  });
});
