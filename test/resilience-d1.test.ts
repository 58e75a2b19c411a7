import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CartObject } from "../durable-objects/cart";
import { CATEGORIES_KEY, productKey } from "../workers/catalog/kv-keys";
import { bumpListingGenerations } from "../workers/catalog/projections";
import { purgeProductResponses } from "../workers/catalog/response-cache";
import { circuitSnapshot, resetCircuitBreakers } from "../workers/lib/circuit-breaker";
import { isGuarded } from "../workers/lib/d1-guard";
import { resilientEnv } from "../workers/lib/resilient-env";
import { body, checkout, readyCart, stockedSku, stockOf } from "./checkout-fixtures";
import { type FaultyD1, failingD1, hangingD1, slowD1 } from "./fakes/faulty-d1";
import { ADMIN, callWithEnv, expectProblem } from "./helpers";
import { seedSku, type TestCart } from "./revenue-fixtures";

afterEach(() => {
  vi.restoreAllMocks();
  resetCircuitBreakers();
});

/**
 * A request through the edge worker's real entry point with `overrides` in its env, the way
 * the platform would hand it a D1 binding in trouble. Waits for its `waitUntil` work.
 */
async function fetchWith(path: string, overrides: Partial<Env> = {}, init: RequestInit = {}) {
  const started = Date.now();
  const res = await callWithEnv(path, init, overrides);
  return Object.assign(res, { ms: Date.now() - started });
}

/**
 * A product in a category, written straight to D1 (no catalog events, so no consumer races
 * the test), then read once through the API while D1 is healthy: that is what leaves the
 * last good copies behind. Finally the live copies are dropped, as their TTLs would.
 */
async function catalogReadOnceThenExpired() {
  const { productId } = await seedSku({ USD: 1999 });
  const product = await env.DB.prepare("SELECT slug, title FROM products WHERE id = ?1")
    .bind(productId)
    .first<{ slug: string; title: string }>();
  if (!product) throw new Error("seeded product missing");
  const category = `cat-${crypto.randomUUID().slice(0, 8)}`;
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO categories (id, slug, name, created_at, updated_at) VALUES (?1, ?2, ?2, ?3, ?3)",
    ).bind(`cat_${category}`, category, now),
    env.DB.prepare("INSERT INTO product_categories (product_id, category_id) VALUES (?1, ?2)").bind(
      productId,
      `cat_${category}`,
    ),
  ]);
  const paths = {
    product: `/api/products/${product.slug}?currency=USD`,
    listing: `/api/products?category=${category}&currency=USD`,
    categories: "/api/categories",
  };
  const healthy: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(paths)) {
    const res = await fetchWith(path);
    expect(res.status).toBe(200);
    healthy[name] = await res.json();
  }
  // The storefront's category page reads the same listing queries it will need later.
  expect((await fetchWith(`/c/${category}`)).status).toBe(200);

  await env.CATALOG_KV.delete(productKey(product.slug));
  await env.CATALOG_KV.delete(CATEGORIES_KEY);
  await bumpListingGenerations(env.CATALOG_KV, [category]);
  // Through the purge, so this isolate's second-long memory of hot entries forgets it too.
  await purgeProductResponses([product.slug]);
  return { product, category, paths, healthy };
}

function expectDegraded(res: Response) {
  expect(res.status).toBe(200);
  expect(res.headers.get("popcart-degraded")).toBe("d1");
}

describe("catalog reads while D1 is failing or slow", () => {
  it("serves product, listing and category tree from their last good copies with Popcart-Degraded: d1", async () => {
    const { paths, healthy } = await catalogReadOnceThenExpired();
    const DB = failingD1();
    const points: AnalyticsEngineDataPoint[] = [];
    const METRICS = { writeDataPoint: (point: AnalyticsEngineDataPoint) => points.push(point) };
    for (const [name, path] of Object.entries(paths)) {
      const res = await fetchWith(path, { DB, METRICS: METRICS as unknown as AnalyticsEngineDataset });
      expectDegraded(res);
      expect(res.headers.get("x-catalog-source")).toBe("last-good");
      expect(res.headers.get("cache-control")).toBe("public, max-age=5");
      expect(await res.json()).toEqual(healthy[name]);
      expect(res.ms).toBeLessThan(1_000);
    }
    // D1 was asked each time (the live copies were gone) and failed.
    expect(DB.calls).toBeGreaterThanOrEqual(3);
    const degraded = points.filter((point) => point.blobs?.[0] === "degraded").map((p) => p.blobs?.[3]);
    expect(degraded).toEqual(["/api/products/:slug", "/api/products", "/api/categories"]);
  });

  it("keeps rendering storefront product and category pages from the last good copies", async () => {
    const { product, category } = await catalogReadOnceThenExpired();
    const DB = failingD1();
    const productPage = await fetchWith(`/p/${product.slug}`, { DB });
    expectDegraded(productPage);
    expect(await productPage.text()).toContain(product.title);
    // A query string of its own: not answered from the page cache filled while D1 was healthy.
    const categoryPage = await fetchWith(`/c/${category}?from=outage`, { DB });
    expectDegraded(categoryPage);
    expect(categoryPage.headers.get("x-page-cache")).toBe("miss");
    expect(await categoryPage.text()).toContain(product.title);
  });

  it("answers from the last good copy once D1 takes longer than the read budget, without waiting for it", async () => {
    const { paths, healthy } = await catalogReadOnceThenExpired();
    const res = await fetchWith(paths.listing, { DB: slowD1(env.DB, 3_000), D1_READ_BUDGET_MS: "100" });
    expectDegraded(res);
    expect(res.ms).toBeLessThan(1_000);
    expect(await res.json()).toEqual(healthy.listing);
  });

  it("answers 503 database_unavailable with Retry-After, fast, when D1 fails and there is no copy", async () => {
    const DB = failingD1();
    const res = await fetchWith(`/api/products/never-read-${crypto.randomUUID().slice(0, 8)}`, { DB });
    await expectProblem(res, 503, "database_unavailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(res.ms).toBeLessThan(1_000);
    const write = await fetchWith(
      "/admin/api/categories",
      { DB },
      {
        method: "POST",
        headers: { ...ADMIN, "content-type": "application/json" },
        body: JSON.stringify({ slug: `c-${crypto.randomUUID().slice(0, 8)}`, name: "New" }),
      },
    );
    await expectProblem(write, 503, "database_unavailable");
  });

  it("cuts a hanging D1 off at D1_TIMEOUT_MS instead of hanging the request", async () => {
    const res = await fetchWith(`/api/products/hang-${crypto.randomUUID().slice(0, 8)}`, {
      DB: hangingD1(),
      D1_TIMEOUT_MS: "300",
    });
    await expectProblem(res, 503, "database_unavailable");
    expect(res.ms).toBeGreaterThanOrEqual(290);
    expect(res.ms).toBeLessThan(1_300);
  });

  it("opens the d1 circuit after repeated outages: reads then skip D1 entirely, and /health reports it", async () => {
    const { paths } = await catalogReadOnceThenExpired();
    const DB = failingD1();
    const vars = { DB, D1_BREAKER_THRESHOLD: "2", D1_BREAKER_COOLDOWN_MS: "60000" };
    expectDegraded(await fetchWith(paths.product, vars));
    expectDegraded(await fetchWith(paths.categories, vars));
    expect(circuitSnapshot().d1?.state).toBe("open");
    const attempted = DB.calls;
    const skipped = await fetchWith(paths.listing, vars);
    expectDegraded(skipped);
    expect(DB.calls).toBe(attempted);

    const health = await fetchWith("/health", vars);
    expect(health.status).toBe(503);
    const report = (await health.json()) as {
      status: string;
      checks: { d1: { ok: boolean; error: string } };
      circuits: Record<string, { state: string; retry_after_ms: number }>;
    };
    expect(report.status).toBe("degraded");
    expect(report.checks.d1).toMatchObject({ ok: false, error: expect.stringMatching(/circuit open/) });
    expect(report.circuits.d1?.state).toBe("open");
    expect(report.circuits.d1?.retry_after_ms).toBeGreaterThan(50_000);
  });
});

describe("the guarded env", () => {
  it("is a memoised copy of the env with only DB guarded, and stays guarded when spread", async () => {
    const replacement = failingD1();
    const base: Env = { ...env, DB: replacement };
    const view = resilientEnv(base);
    expect(resilientEnv(base)).toBe(view);
    expect(resilientEnv(view)).toBe(view);
    expect(view).not.toBe(base);
    expect(base.DB).toBe(replacement);
    expect(isGuarded(view.DB)).toBe(true);
    expect(isGuarded({ ...view }.DB)).toBe(true);
    expect(view.ADMIN_TOKENS).toBe(base.ADMIN_TOKENS);
    await expect(view.DB.prepare("select 1").first()).rejects.toThrow(/D1 is unavailable/);
    expect(replacement.calls).toBe(1);
  });
});

describe("checkout while D1 is failing or slow", () => {
  const cartObject = (cartId: string) => env.CART.get(env.CART.idFromName(cartId));

  /**
   * Swaps the D1 binding of this cart's object, passed through the same guard its constructor
   * applies to the binding the runtime gives it. Returns a function that puts the real one back.
   */
  async function withCartDatabase(cart: TestCart, DB: FaultyD1, vars: Partial<Env> = {}) {
    let original: Env | undefined;
    await runInDurableObject(cartObject(cart.id), (instance) => {
      const object = instance as unknown as { env: Env };
      original = object.env;
      object.env = resilientEnv({ ...object.env, ...vars, DB });
    });
    return () =>
      runInDurableObject(cartObject(cart.id), (instance) => {
        if (original) (instance as unknown as { env: Env }).env = original;
      });
  }

  it("answers 503 database_unavailable quickly when D1 fails inside the cart object, and the same key succeeds once it is back", async () => {
    const sku = await stockedSku(3);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const restore = await withCartDatabase(cart, failingD1());
    const key = crypto.randomUUID();
    const started = Date.now();
    const res = await checkout(cart, key);
    expect(Date.now() - started).toBeLessThan(1_000);
    await expectProblem(res, 503, "database_unavailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await stockOf(sku)).toEqual({ available: 3, reserved: 0, sold: 0 });

    await restore();
    resetCircuitBreakers();
    const started2 = await body(await checkout(cart, key), [201]);
    expect(started2.status).toBe("awaiting_payment");
    expect(await stockOf(sku)).toEqual({ available: 2, reserved: 1, sold: 0 });
  });

  it("cuts a hanging D1 inside the cart object off at D1_TIMEOUT_MS", async () => {
    const sku = await stockedSku(3);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    await withCartDatabase(cart, hangingD1(), { D1_TIMEOUT_MS: "300" });
    const started = Date.now();
    const res = await checkout(cart);
    expect(Date.now() - started).toBeLessThan(1_500);
    await expectProblem(res, 503, "database_unavailable");
  });

  it("answers at the edge, without waking the cart object, once the edge's d1 circuit is open", async () => {
    const sku = await stockedSku(3);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const vars = { DB: failingD1(), D1_BREAKER_THRESHOLD: "1", D1_BREAKER_COOLDOWN_MS: "60000" };
    await fetchWith(`/api/products/trip-${crypto.randomUUID().slice(0, 8)}`, vars);
    expect(circuitSnapshot().d1?.state).toBe("open");

    const woken = vi.spyOn(CartObject.prototype, "checkout");
    const res = await fetchWith(`/api/carts/${cart.id}/checkout`, vars, {
      method: "POST",
      headers: {
        ...cart.headers,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: "{}",
    });
    await expectProblem(res, 503, "database_unavailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(50);
    // Answered without waking the cart object: counted, not timed.
    expect(woken).not.toHaveBeenCalled();
  });
});
