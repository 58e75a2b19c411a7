import { cycle, defineScenario } from "../lib/scenario.mjs";
import { BENCH_ADDRESS as ADDRESS, CARD_OK, percentile, pool, shopperIp } from "../lib/shopper.mjs";

/** Shoppers racing for the flash-sale SKU: several times more carts than units. */
const CARTS = 600;
const UNITS = 100;
const SETUP_CONCURRENCY = 16;
async function json(res, expected) {
  if (!expected.includes(res.status)) throw new Error(`bench checkout: ${res.status} ${await res.text()}`);
  return res.json();
}

export default defineScenario({
  name: "checkout",
  description: `${CARTS} carts check out 1 unit each of a ${UNITS}-unit flash-sale SKU (test provider), then pay`,
  connections: 32,
  async setup({ fetch, adminToken, catalog }) {
    const sku = catalog.flashSale.sku;
    const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
    await json(
      await fetch(`/admin/api/inventory/${sku}`, {
        method: "PUT",
        headers: admin,
        body: JSON.stringify({ on_hand: UNITS, reason: "bench: checkout scenario" }),
      }),
      [200],
    );
    // Reserve at checkout, so every cart can be filled and the race happens at checkout.
    await json(
      await fetch(`/admin/api/inventory/${sku}/sale`, {
        method: "PUT",
        headers: admin,
        body: JSON.stringify({
          reserve_on_add_to_cart: false,
          per_customer_limit: null,
          per_holder_limit: null,
          max_per_reservation: null,
          sale_starts_at: null,
          sale_ends_at: null,
        }),
      }),
      [200],
    );
    const carts = await pool(
      Array.from({ length: CARTS }, (_, i) => i),
      SETUP_CONCURRENCY,
      async (i) => {
        const ip = { "cf-connecting-ip": shopperIp(i) };
        const cart = await json(
          await fetch("/api/carts", {
            method: "POST",
            headers: { "content-type": "application/json", ...ip },
            body: JSON.stringify({ currency: "USD", email: `bench-${i}-${Date.now()}@example.com` }),
          }),
          [201],
        );
        const headers = { "content-type": "application/json", "x-cart-token": cart.token, ...ip };
        const put = async (path, method, body) =>
          json(
            await fetch(`/api/carts/${cart.id}${path}`, { method, headers, body: JSON.stringify(body) }),
            [200],
          );
        await put("/lines", "POST", { sku, quantity: 1 });
        await put("/shipping-address", "PUT", ADDRESS);
        await put("/shipping-method", "PUT", { id: "us_standard" });
        return {
          id: cart.id,
          token: cart.token,
          ip: ip["cf-connecting-ip"],
          key: `bench-checkout-${cart.id}`,
        };
      },
    );
    return { sku, carts, calls: 0 };
  },
  requests(_ctx, state) {
    // The runner calls this twice: the warm-up reads carts, the measured run checks them out.
    const warmUp = state.calls++ === 0;
    const next = cycle(state.carts);
    return () => {
      const cart = next();
      if (warmUp) {
        return {
          path: `/api/carts/${cart.id}`,
          headers: { "x-cart-token": cart.token, "cf-connecting-ip": cart.ip },
        };
      }
      return {
        method: "POST",
        path: `/api/carts/${cart.id}/checkout`,
        headers: {
          "x-cart-token": cart.token,
          "idempotency-key": cart.key,
          "content-type": "application/json",
        },
        body: "{}",
      };
    };
  },
  async summarize({ fetch, adminToken, mf }, state) {
    // Replaying each cart's key returns its checkout (or repeats the refusal): nothing new is created.
    const started = Date.now();
    const outcomes = await pool(state.carts, SETUP_CONCURRENCY, async (cart) => {
      const headers = {
        "x-cart-token": cart.token,
        "cf-connecting-ip": cart.ip,
        "content-type": "application/json",
      };
      const res = await fetch(`/api/carts/${cart.id}/checkout`, {
        method: "POST",
        headers: { ...headers, "idempotency-key": cart.key },
        body: "{}",
      });
      if (res.status === 409) return { refused: (await res.json()).code };
      const checkout = await json(res, [200, 201]);
      if (checkout.status !== "awaiting_payment") return { status: checkout.status };
      const before = performance.now();
      const paid = await json(
        await fetch(`/api/checkouts/${checkout.id}/confirm`, {
          method: "POST",
          headers,
          body: JSON.stringify({ card_number: CARD_OK }),
        }),
        [200],
      );
      return { status: paid.status, confirm_ms: performance.now() - before };
    });
    const seconds = (Date.now() - started) / 1000;
    const confirms = outcomes
      .flatMap((o) => (o.confirm_ms === undefined ? [] : [o.confirm_ms]))
      .sort((a, b) => a - b);
    const completed = outcomes.filter((o) => o.status === "completed").length;
    const inventory = await json(
      await fetch(`/admin/api/inventory/${state.sku}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      }),
      [200],
    );
    const db = await mf.getD1Database("DB");
    const ordered = await db
      .prepare("SELECT coalesce(sum(quantity), 0) AS units FROM order_lines WHERE sku = ?1")
      .bind(state.sku)
      .first();
    return {
      carts: state.carts.length,
      units: UNITS,
      completed_orders: completed,
      sold_out_refusals: outcomes.filter((o) => o.refused === "sold_out").length,
      other_refusals: outcomes.filter((o) => o.refused && o.refused !== "sold_out").length,
      units_sold: inventory.sold,
      units_ordered: ordered.units,
      oversold: Math.max(0, inventory.sold - UNITS, ordered.units - UNITS),
      pay_phase_completed_per_s: Math.round((completed / seconds) * 10) / 10,
      confirm_p50_ms: percentile(confirms, 50),
      confirm_p99_ms: percentile(confirms, 99),
    };
  },
});
