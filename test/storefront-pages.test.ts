import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ASSETS } from "../workers/storefront/asset-manifest.gen";
import { ADMIN, call, callJson } from "./helpers";
import { createFixture, type Fixture } from "./storefront-fixtures";

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});

const html = async (path: string, init: RequestInit = {}) => {
  const res = await call(path, init);
  return { res, body: await res.text() };
};

describe("storefront catalog pages", () => {
  it("renders the home page with featured products, categories and immutable asset URLs", async () => {
    const { res, body } = await html("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(body.startsWith("<!doctype html>")).toBe(true);
    expect(body).toContain(fx.shirt.title);
    expect(body).toContain(`href="/c/${fx.category.slug}"`);
    expect(body).toMatch(/href="\/assets\/css\/site\.[0-9a-f]{12}\.css"/);
    expect(res.headers.get("cache-control")).toMatch(/^public, max-age=60/);
  });

  it("serves a repeat view from the edge page cache and answers If-None-Match with 304", async () => {
    const path = `/p/${fx.mug.slug}`;
    const first = await call(path);
    expect(first.headers.get("x-page-cache")).toBe("miss");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    await first.text();
    const again = await call(path);
    expect(again.headers.get("x-page-cache")).toBe("hit");
    expect(await again.text()).toContain(fx.mug.title);
    const revalidated = await call(path, { headers: { "if-none-match": etag ?? "" } });
    expect(revalidated.status).toBe(304);
  });

  it("lists a category's products and narrows them by brand, with sort kept in the form", async () => {
    const all = await html(`/c/${fx.category.slug}`);
    expect(all.res.status).toBe(200);
    expect(all.body).toContain(fx.shirt.title);
    expect(all.body).toContain(fx.mug.title);
    expect(all.body).toContain('<option value="Contoso"');
    const filtered = await html(`/c/${fx.category.slug}?brand=Contoso&sort=price_asc`);
    expect(filtered.body).toContain(fx.mug.title);
    expect(filtered.body).not.toContain(fx.shirt.title);
    expect(filtered.body).toMatch(/<option value="price_asc" selected/);
  });

  it("filters by a price range typed in major units and explains an unreadable price", async () => {
    const cheap = await html(`/c/${fx.category.slug}?max=20`);
    expect(cheap.body).toContain(fx.mug.title);
    expect(cheap.body).not.toContain(fx.shirt.title);
    const bad = await html(`/c/${fx.category.slug}?min=abc`);
    expect(bad.res.status).toBe(200);
    expect(bad.body).toContain("Enter prices as numbers");
  });

  it("paginates with a next link that carries the filters and a cursor", async () => {
    const { body } = await html(`/c/${fx.category.slug}?sort=title&brand=Northwind`);
    expect(body).not.toContain('rel="next"');
    const page = await call(`/c/${fx.category.slug}?cursor=garbage`);
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toContain("text/html");
  });

  it("renders a product with variant picker, compare-at price, sized images and client data", async () => {
    const { res, body } = await html(`/p/${fx.shirt.slug}`);
    expect(res.status).toBe(200);
    expect(body).toContain(`<h1>${fx.shirt.title}</h1>`);
    expect(body).toContain("$49.99");
    expect(body).toContain("$69.99");
    expect(body).toMatch(/<legend>size<\/legend>/);
    expect(body).toMatch(/type="radio"[^>]*name="option-colour"[^>]*value="Red"/);
    expect(body).toMatch(/<img src="\/img\/shirt\.jpg" alt="Blue linen shirt" width="800" height="1000"/);
    expect(body).toMatch(/<label for="quantity">Quantity<\/label>/);
    const data = JSON.parse(
      /<script type="application\/json" id="product-data">(.*?)<\/script>/s.exec(body)?.[1] ?? "null",
    );
    expect(data.variants.map((v: { sku: string }) => v.sku)).toEqual(fx.shirt.skus);
  });

  it("preselects the variant named in ?variant=", async () => {
    const product = (await (await call(`/api/products/${fx.shirt.slug}`)).json()) as {
      variants: { id: string; sku: string }[];
    };
    const red = product.variants.find((v) => v.sku.endsWith("M-RED"));
    const { body } = await html(`/p/${fx.shirt.slug}?variant=${red?.id}`);
    expect(body).toContain("$51.99");
    expect(body).toMatch(/value="Red"[^>]*checked/);
  });

  it("prices pages in the currency chosen with the region switcher, which persists in a cookie", async () => {
    const switched = await call("/preferences/currency", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://popcart.test" },
      body: new URLSearchParams({ currency: "EUR", return_to: `/p/${fx.shirt.slug}` }),
      redirect: "manual",
    });
    expect(switched.status).toBe(303);
    expect(switched.headers.get("location")).toBe(`/p/${fx.shirt.slug}`);
    const cookie = switched.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/popcart_currency=EUR; Max-Age=31536000; Path=\/; SameSite=Lax/);
    const { body } = await html(`/p/${fx.shirt.slug}`, { headers: { cookie: "popcart_currency=EUR" } });
    expect(body).toContain("€45.99");
    expect(body).toContain('data-currency="EUR"');
    expect(body).toMatch(/<option value="EUR" selected/);
  });

  it("refuses to redirect the region switcher off-site or to store an unknown currency", async () => {
    const res = await call("/preferences/currency", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://popcart.test" },
      body: new URLSearchParams({ currency: "XXX", return_to: "//evil.example/" }),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("keeps hostile catalog text inert in the page and in the embedded client data", async () => {
    const slug = `hostile-${crypto.randomUUID().slice(0, 8)}`;
    const evil = `</script><script>alert(1)</script>`;
    const res = await callJson(
      "/admin/api/products",
      "POST",
      {
        slug,
        title: `Bad ${evil}`,
        status: "active",
        variants: [
          {
            sku: `EVIL-${slug}`,
            title: evil,
            options: { size: evil },
            prices: [{ currency: "USD", amount: 100 }],
          },
        ],
      },
      ADMIN,
    );
    expect(res.status).toBe(201);
    const { body } = await html(`/p/${slug}`);
    expect(body).not.toContain("<script>alert(1)");
    const json = /<script type="application\/json" id="product-data">(.*?)<\/script>/s.exec(body)?.[1] ?? "";
    expect(JSON.parse(json).variants[0].title).toBe(evil);
  });

  it("answers an unknown product with a friendly HTML 404 page", async () => {
    const { res, body } = await html("/p/no-such-product-anywhere");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(body).toContain("We couldn&#39;t find that product");
    const category = await call("/c/no-such-category");
    expect(category.status).toBe(404);
  });
});

describe("storefront shopper pages", () => {
  it("never caches the cart, checkout and order pages, and keeps the order token out of referrers", async () => {
    for (const path of ["/cart", "/checkout", "/orders/ord_123?token=abc"]) {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      await res.text();
    }
    const order = await call("/orders/ord_123?token=abc&placed=1");
    expect(order.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await order.text()).toContain("your order is confirmed");
  });

  it("marks the built-in payment form as TEST MODE and labels every input", async () => {
    const { body } = await html("/checkout");
    expect(body).toContain("TEST MODE");
    const ids = [...body.matchAll(/<input[^>]*\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(5);
    for (const id of ids) expect(body).toContain(`for="${id}"`);
  });

  it("leaves the API, admin, health and docs routes to their own domains", async () => {
    expect((await call("/health")).headers.get("content-type")).toContain("application/json");
    expect((await call("/api/products")).headers.get("content-type")).toContain("application/json");
    expect((await call("/openapi.json")).status).toBe(200);
    const missing = await call("/api/nope");
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
  });

  it("serves fingerprinted client files with a one-year immutable Cache-Control", async () => {
    const res = await env.ASSETS.fetch(new Request(`http://popcart.test${ASSETS["js/product.js"]}`));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const source = await res.text();
    expect(source).toContain(ASSETS["js/api.js"]);
  });
});
