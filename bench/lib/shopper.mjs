/**
 * One shopper's purchase through the public API, as the storm and soak scenarios drive it.
 * Two paths: `short` (three requests: create the whole cart, check out, confirm) and
 * `granular` (six: create, add line, address, shipping method, check out, confirm), so the
 * same run can compare them.
 */

export const CARD_OK = "4242424242424242";

export const BENCH_ADDRESS = {
  name: "Bench Shopper",
  line1: "1 Load St",
  city: "Austin",
  postal_code: "78701",
  country: "US",
};

/**
 * Each simulated shopper gets its own client address: the per-client abuse limits
 * (README.md#rate-limits) key on CF-Connecting-IP and would otherwise see the crowd as one
 * very busy client.
 */
export const shopperIp = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const round = (value, digits = 2) => (value == null ? null : Number(value.toFixed(digits)));

/** Runs `task` over `items` with at most `limit` in flight. */
export async function pool(items, limit, task) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index], index);
      }
    }),
  );
  return results;
}

/**
 * @typedef {object} PurchaseOutcome
 * @property {"completed" | "refused" | "failed"} outcome
 * @property {string | null} code the problem code of a refusal (e.g. `sold_out`), or the failure
 * @property {number} requests HTTP requests this shopper sent
 * @property {number[]} statuses every status this shopper saw
 * @property {Record<string, number>} steps milliseconds per request, by step name
 */

/**
 * Buys `quantity` of `sku` as shopper `i`. A 4xx refusal (sold out) ends the purchase as
 * `refused`; a 5xx or an unexpected answer ends it as `failed`. Never throws for HTTP errors.
 * @param {(path: string, init?: RequestInit) => Promise<Response>} fetch
 * @param {{ i: number, sku: string, path?: "short" | "granular", tag?: string, quantity?: number }} options
 * @returns {Promise<PurchaseOutcome>}
 */
export async function purchase(fetch, { i, sku, path = "short", tag = "bench", quantity = 1 }) {
  const ip = { "cf-connecting-ip": shopperIp(i) };
  const statuses = [];
  const steps = {};
  const send = async (step, url, method, body, headers = {}) => {
    const started = performance.now();
    const res = await fetch(url, {
      method,
      headers: { "content-type": "application/json", ...ip, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    statuses.push(res.status);
    const text = await res.text();
    steps[step] = performance.now() - started;
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const end = (res) => ({
    outcome: res.status >= 500 || res.status < 400 ? "failed" : "refused",
    code: res.body?.code ?? `http_${res.status}`,
    requests: statuses.length,
    statuses,
    steps,
  });
  const email = `${tag}-${i}-${Date.now()}@example.com`;
  const lines = [{ sku, quantity }];
  let created;
  if (path === "short") {
    created = await send("create", "/api/carts", "POST", {
      currency: "USD",
      email,
      lines,
      shipping_address: BENCH_ADDRESS,
      shipping_method: "us_standard",
    });
    if (created.status !== 201) return end(created);
  } else {
    created = await send("create", "/api/carts", "POST", { currency: "USD", email });
    if (created.status !== 201) return end(created);
    const cartHeaders = { "x-cart-token": created.body.token };
    const base = `/api/carts/${created.body.id}`;
    for (const [step, url, method, body] of [
      ["line", `${base}/lines`, "POST", lines[0]],
      ["address", `${base}/shipping-address`, "PUT", BENCH_ADDRESS],
      ["method", `${base}/shipping-method`, "PUT", { id: "us_standard" }],
    ]) {
      const res = await send(step, url, method, body, cartHeaders);
      if (res.status !== 200) return end(res);
    }
  }
  const token = { "x-cart-token": created.body.token };
  const checkout = await send(
    "checkout",
    `/api/carts/${created.body.id}/checkout`,
    "POST",
    {},
    {
      ...token,
      "idempotency-key": `${tag}-${created.body.id}`,
    },
  );
  if (checkout.status !== 201) return end(checkout);
  const paid = await send(
    "confirm",
    `/api/checkouts/${checkout.body.id}/confirm`,
    "POST",
    { card_number: CARD_OK },
    token,
  );
  if (paid.status !== 200) return end(paid);
  if (paid.body.status !== "completed") {
    return {
      outcome: "failed",
      code: `checkout_${paid.body.status}`,
      requests: statuses.length,
      statuses,
      steps,
    };
  }
  return { outcome: "completed", code: null, requests: statuses.length, statuses, steps };
}

/**
 * Gives the SKU exactly `stock` available units and a flash-sale policy without per-shopper
 * caps that would stop the bench (each shopper buys one unit with its own email anyway).
 * @returns {Promise<{ sold: number }>} the SKU's sold count before the run
 */
export async function stockSku({ fetch, adminToken }, sku, stock, policy = {}) {
  const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const call = async (path, method, body) => {
    const res = await fetch(path, { method, headers: admin, body: body && JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  await call(`/admin/api/inventory/${sku}/sale`, "PUT", {
    reserve_on_add_to_cart: true,
    per_customer_limit: null,
    per_holder_limit: null,
    max_per_reservation: null,
    sale_starts_at: null,
    sale_ends_at: null,
    waiting_room: null,
    ...policy,
  });
  const before = await call(`/admin/api/inventory/${sku}`, "GET");
  if (before.available !== stock) {
    await call(`/admin/api/inventory/${sku}/adjustments`, "POST", {
      delta: stock - before.available,
      reason: "bench: restock for a run",
    });
  }
  return { sold: before.sold };
}

/** The SKU's inventory view (admin API). */
export async function inventoryOf({ fetch, adminToken }, sku) {
  const res = await fetch(`/admin/api/inventory/${sku}`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  if (!res.ok) throw new Error(`inventory ${sku}: ${res.status}`);
  return res.json();
}
