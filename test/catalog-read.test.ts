import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { productKey } from "../workers/catalog/kv-keys";
import type { ProductDetail, ProductList, ProductSummary } from "../workers/catalog/schemas";
import { adminCategory, adminProduct, productDocument, unique } from "./catalog-fixtures";
import { ADMIN, call, callJson, expectProblem } from "./helpers";

async function listAll(query: string, limit: number): Promise<ProductSummary[][]> {
  const pages: ProductSummary[][] = [];
  let cursor: string | null = null;
  do {
    const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const res = await call(`/api/products?${query}&limit=${limit}${suffix}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ProductList;
    expect(body.items.length).toBeLessThanOrEqual(limit);
    pages.push(body.items);
    cursor = body.next_cursor;
    if (pages.length > 50) throw new Error("pagination does not terminate");
  } while (cursor);
  return pages;
}

describe("catalog listing", () => {
  it("walks every sort page by page with no duplicates or gaps, even when sort keys tie", async () => {
    const root = await adminCategory(`root-${unique()}`);
    const child = await adminCategory(`child-${unique()}`, root.id);
    const created = [];
    // Few distinct prices, titles and popularity values, so every sort has long runs of ties.
    for (let i = 0; i < 17; i++) {
      created.push(
        await adminProduct({
          title: `Tie ${i % 3}`,
          usd: 1000 + (i % 2) * 500,
          popularity: i % 4,
          category_ids: [i % 2 === 0 ? root.id : child.id],
        }),
      );
    }
    const expected = new Map(created.map((p) => [p.id, p]));
    for (const sort of ["newest", "price_asc", "price_desc", "title", "popular"] as const) {
      const pages = await listAll(`category=${root.slug}&sort=${sort}`, 4);
      const items = pages.flat();
      expect(pages.length).toBe(5);
      expect(items.map((i) => i.id).sort()).toEqual([...expected.keys()].sort());
      for (let i = 1; i < items.length; i++) {
        const [a, b] = [items[i - 1], items[i]];
        if (!a || !b) throw new Error("unreachable");
        const pa = expected.get(a.id);
        const pb = expected.get(b.id);
        if (!pa || !pb) throw new Error("unexpected product in listing");
        const key = {
          newest: (p: typeof pa) => -Date.parse(p.created_at),
          price_asc: (p: typeof pa) => p.variants[0]?.prices.find((x) => x.currency === "USD")?.amount ?? 0,
          price_desc: (p: typeof pa) =>
            -(p.variants[0]?.prices.find((x) => x.currency === "USD")?.amount ?? 0),
          title: (p: typeof pa) => p.title,
          popular: (p: typeof pa) => -p.popularity,
        }[sort];
        expect(key(pa) <= key(pb)).toBe(true);
      }
    }
  });

  it("includes descendant categories and filters by brand, price range and currency", async () => {
    const root = await adminCategory(`root-${unique()}`);
    const child = await adminCategory(`child-${unique()}`, root.id);
    const brand = `Brand-${unique()}`;
    const inRoot = await adminProduct({ category_ids: [root.id], usd: 1000, eur: 900, brand });
    const inChild = await adminProduct({ category_ids: [child.id], usd: 3000, eur: 2800 });
    const usdOnly = await adminProduct({ category_ids: [child.id], usd: 5000, eur: null, brand });
    await adminProduct({ category_ids: [child.id], status: "draft" });

    const ids = async (query: string) =>
      (await listAll(query, 10))
        .flat()
        .map((p) => p.id)
        .sort();
    expect(await ids(`category=${root.slug}`)).toEqual([inRoot.id, inChild.id, usdOnly.id].sort());
    expect(await ids(`category=${child.slug}`)).toEqual([inChild.id, usdOnly.id].sort());
    expect(await ids(`category=${root.slug}&brand=${brand}`)).toEqual([inRoot.id, usdOnly.id].sort());
    expect(await ids(`category=${root.slug}&min_price=1001&max_price=5000`)).toEqual(
      [inChild.id, usdOnly.id].sort(),
    );
    // Not sold in EUR: absent from the EUR listing; EUR bounds apply to EUR prices.
    expect(await ids(`category=${root.slug}&currency=EUR&max_price=2800`)).toEqual(
      [inRoot.id, inChild.id].sort(),
    );

    const res = await call(`/api/products?category=${root.slug}&currency=EUR&sort=price_asc`);
    const body = (await res.json()) as ProductList;
    expect(body.items[0]).toMatchObject({
      id: inRoot.id,
      price: { amount: 900, currency: "EUR" },
      image: { url: expect.stringMatching(/^\/images\//) },
    });
  });

  it("answers an unknown category with 404 and a foreign or garbage cursor with 422", async () => {
    await expectProblem(await call(`/api/products?category=nope-${unique()}`), 404, "category_not_found");
    await expectProblem(await call("/api/products?cursor=not-a-cursor"), 422, "invalid_cursor");

    const root = await adminCategory(`root-${unique()}`);
    await adminProduct({ category_ids: [root.id] });
    await adminProduct({ category_ids: [root.id] });
    const first = (await (await call(`/api/products?category=${root.slug}&limit=1`)).json()) as ProductList;
    expect(first.next_cursor).not.toBeNull();
    const foreign = await call(`/api/products?category=${root.slug}&sort=title&cursor=${first.next_cursor}`);
    await expectProblem(foreign, 422, "invalid_cursor");

    const bad = await expectProblem(
      await call("/api/products?limit=0&sort=cheapest&min_price=-1"),
      422,
      "validation_failed",
    );
    expect(bad.errors?.map((e) => e.path).sort()).toEqual(["query.limit", "query.min_price", "query.sort"]);
  });

  it("serves a repeated listing from its KV page and honours If-None-Match", async () => {
    const root = await adminCategory(`root-${unique()}`);
    await adminProduct({ category_ids: [root.id] });
    const first = await call(`/api/products?category=${root.slug}`);
    expect(first.headers.get("x-catalog-source")).toBe("d1");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"l\./);
    expect(first.headers.get("cache-control")).toContain("stale-while-revalidate");
    const second = await call(`/api/products?category=${root.slug}`);
    expect(["kv", "cache"]).toContain(second.headers.get("x-catalog-source"));
    expect(await second.json()).toEqual(await first.json());
    const revalidated = await call(`/api/products?category=${root.slug}`, {
      headers: { "if-none-match": etag ?? "" },
    });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe("");
  });
});

describe("product by slug", () => {
  it("returns variants, option values, media, categories and attributes priced in USD or EUR", async () => {
    const category = await adminCategory(`cat-${unique()}`);
    const product = await adminProduct({
      category_ids: [category.id],
      usd: 4200,
      eur: 3900,
      compare_at_usd: 5000,
    });
    const added = await callJson(
      `/admin/api/products/${product.id}/variants`,
      "POST",
      { sku: `SKU-L-${unique()}`, options: { size: "L" }, prices: [{ currency: "USD", amount: 4400 }] },
      ADMIN,
    );
    expect(added.status).toBe(201);

    const usd = (await (await call(`/api/products/${product.slug}?currency=USD`)).json()) as ProductDetail;
    expect(usd).toMatchObject({
      id: product.id,
      currency: "USD",
      options: [{ name: "size", values: ["M", "L"] }],
      categories: [{ id: category.id, slug: category.slug }],
      attributes: [{ name: "material", value: "linen" }],
      media: [{ url: product.media[0]?.url, alt: product.media[0]?.alt, position: 0 }],
    });
    expect(usd.variants.map((v) => [v.price, v.compare_at_price])).toEqual([
      [
        { amount: 4200, currency: "USD" },
        { amount: 5000, currency: "USD" },
      ],
      [{ amount: 4400, currency: "USD" }, null],
    ]);

    const eur = (await (await call(`/api/products/${product.slug}?currency=EUR`)).json()) as ProductDetail;
    expect(eur.currency).toBe("EUR");
    // The second variant has no EUR price: it shows as not purchasable in EUR, not as 0.
    expect(eur.variants.map((v) => v.price)).toEqual([{ amount: 3900, currency: "EUR" }, null]);
  });

  it("answers 404 product_not_found for unknown, draft and archived products", async () => {
    await expectProblem(await call(`/api/products/missing-${unique()}`), 404, "product_not_found");
    const exotic = encodeURIComponent("é".repeat(190));
    await expectProblem(await call(`/api/products/${exotic}`), 404, "product_not_found");
    const draft = await adminProduct({ status: "draft" });
    await expectProblem(await call(`/api/products/${draft.slug}`), 404, "product_not_found");
    const archived = await adminProduct();
    expect(
      (await call(`/admin/api/products/${archived.id}`, { method: "DELETE", headers: ADMIN })).status,
    ).toBe(200);
    await vi.waitFor(async () => expect((await productDocument(archived.slug))?.visible).toBe(false), {
      timeout: 10_000,
      interval: 100,
    });
    await expectProblem(await call(`/api/products/${archived.slug}`), 404, "product_not_found");
  });

  it("refuses an unsupported currency with 422 naming query.currency", async () => {
    const product = await adminProduct();
    const body = await expectProblem(
      await call(`/api/products/${product.slug}?currency=XYZ`),
      422,
      "validation_failed",
    );
    expect(body.errors?.map((e) => e.path)).toEqual(["query.currency"]);
  });

  it("sets a per-revision ETag and answers If-None-Match with 304", async () => {
    const product = await adminProduct();
    const first = await call(`/api/products/${product.slug}?currency=USD`);
    const etag = first.headers.get("etag");
    expect(etag).toBe(`"${product.id}.r1.USD"`);
    expect(first.headers.get("cache-control")).toBe("public, max-age=30, stale-while-revalidate=60");
    const notModified = await call(`/api/products/${product.slug}?currency=USD`, {
      headers: { "if-none-match": `W/"other", ${etag}` },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    expect(await notModified.text()).toBe("");
    const otherCurrency = await call(`/api/products/${product.slug}?currency=EUR`, {
      headers: { "if-none-match": etag ?? "" },
    });
    expect(otherCurrency.status).toBe(200);
  });

  it("falls back to D1 on a KV miss and repopulates the KV document", async () => {
    const product = await adminProduct({ usd: 1234 });
    // Let the queue consumer project the create event first, so nothing else writes the key.
    await vi.waitFor(async () => expect(await productDocument(product.slug)).not.toBeNull(), {
      timeout: 10_000,
      interval: 100,
    });
    await env.CATALOG_KV.delete(productKey(product.slug));

    const res = await call(`/api/products/${product.slug}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-catalog-source")).toBe("d1");
    expect(((await res.json()) as ProductDetail).variants[0]?.price).toEqual({
      amount: 1234,
      currency: "USD",
    });

    const doc = await productDocument(product.slug);
    expect(doc).toMatchObject({ product_id: product.id, revision: 1, visible: true });
  });

  it("serves the category tree with nested children and an ETag", async () => {
    const root = await adminCategory(`tree-${unique()}`);
    const child = await adminCategory(`leaf-${unique()}`, root.id);
    await vi.waitFor(
      async () => {
        const res = await call("/api/categories");
        const body = (await res.json()) as { categories: { id: string; children: { id: string }[] }[] };
        const node = body.categories.find((c) => c.id === root.id);
        expect(node?.children.map((c) => c.id)).toEqual([child.id]);
      },
      { timeout: 10_000, interval: 100 },
    );
    const res = await call("/api/categories");
    const etag = res.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"categories\./);
    expect((await call("/api/categories", { headers: { "if-none-match": etag } })).status).toBe(304);
  });

  it("publishes the catalog and admin catalog routes in the OpenAPI document", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths["/api/products"] ?? {})).toContain("get");
    expect(Object.keys(doc.paths["/api/products/{slug}"] ?? {})).toContain("get");
    expect(Object.keys(doc.paths["/api/categories"] ?? {})).toContain("get");
    expect(Object.keys(doc.paths["/admin/api/products/{id}"] ?? {}).sort()).toEqual([
      "delete",
      "get",
      "patch",
    ]);
    expect(Object.keys(doc.paths["/admin/api/variants/{id}"] ?? {})).toEqual(["patch"]);
  });
});
