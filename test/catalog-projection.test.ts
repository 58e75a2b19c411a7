import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { productKey } from "../workers/catalog/kv-keys";
import type { ProductDetail, ProductList } from "../workers/catalog/schemas";
import {
  adminCategory,
  adminProduct,
  deliverCatalogEvents,
  productDocument,
  productEvent,
  unique,
} from "./catalog-fixtures";
import { ADMIN, call, callJson, expectProblem } from "./helpers";

async function setUsdPrice(variantId: string, amount: number, compareAt: number | null = null) {
  const res = await callJson(
    `/admin/api/variants/${variantId}`,
    "PATCH",
    { prices: [{ currency: "USD", amount, compare_at_amount: compareAt }] },
    ADMIN,
  );
  expect(res.status).toBe(200);
}

async function revisionOf(productId: string): Promise<number> {
  const res = await call(`/admin/api/products/${productId}`, { headers: ADMIN });
  return ((await res.json()) as { revision: number }).revision;
}

const listingIds = async (query: string) =>
  ((await (await call(`/api/products?${query}`)).json()) as ProductList).items.map((item) => item.id);

describe("catalog.changed projection", () => {
  it("carries an admin price change into the KV document and the served product", async () => {
    const product = await adminProduct({ usd: 2000 });
    const variantId = product.variants[0]?.id ?? "";
    const before = (await (await call(`/api/products/${product.slug}`)).json()) as ProductDetail;
    expect(before.variants[0]?.price?.amount).toBe(2000);

    await setUsdPrice(variantId, 1500, 2000);
    expect(await revisionOf(product.id)).toBe(2);
    const { batch, result } = await deliverCatalogEvents([productEvent({ ...product, revision: 2 })]);
    expect(result.explicitAcks).toEqual(batch.messages.map((m) => m.id));
    expect(result.retryMessages).toEqual([]);

    const doc = await productDocument(product.slug);
    expect(doc).toMatchObject({ revision: 2, visible: true });
    if (!doc?.visible) throw new Error("expected a live document");
    expect(doc.product.variants[0]?.prices.USD).toEqual({ amount: 1500, compare_at_amount: 2000 });

    // The consumer purged the cached response, so the next read shows the new price at once.
    const res = await call(`/api/products/${product.slug}`);
    expect(res.headers.get("etag")).toBe(`"${product.id}.r2.USD"`);
    const after = (await res.json()) as ProductDetail;
    expect(after.variants[0]?.price).toEqual({ amount: 1500, currency: "USD" });
    expect(after.variants[0]?.compare_at_price).toEqual({ amount: 2000, currency: "USD" });
  });

  it("reaches the KV document through the real queue without manual delivery", async () => {
    const product = await adminProduct({ usd: 2000 });
    await setUsdPrice(product.variants[0]?.id ?? "", 990);
    await vi.waitFor(
      async () => {
        const doc = await productDocument(product.slug);
        expect(doc?.revision).toBe(2);
        expect(doc?.visible && doc.product.variants[0]?.prices.USD?.amount).toBe(990);
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it("never lets a replayed older event regress the document", async () => {
    const product = await adminProduct({ usd: 2000 });
    await setUsdPrice(product.variants[0]?.id ?? "", 1800);
    await deliverCatalogEvents([productEvent({ ...product, revision: 2 })]);
    const replay = await deliverCatalogEvents([productEvent(product, { change: "created" })]);
    expect(replay.result.retryMessages).toEqual([]);
    const doc = await productDocument(product.slug);
    expect(doc?.revision).toBe(2);
    expect(doc?.visible && doc.product.variants[0]?.prices.USD?.amount).toBe(1800);
  });

  it("keeps a newer document when a rebuild produces an older revision", async () => {
    const product = await adminProduct({ usd: 2000 });
    await deliverCatalogEvents([productEvent(product)]);
    const current = await productDocument(product.slug);
    if (!current?.visible) throw new Error("expected a live document");
    // A document from a write D1 has not shown this reader yet (revision 50).
    const newer = { ...current, revision: 50, product: { ...current.product, title: "From the future" } };
    await env.CATALOG_KV.put(productKey(product.slug), JSON.stringify(newer));

    await deliverCatalogEvents([productEvent(product), productEvent(product, { change: "created" })]);
    const doc = await productDocument(product.slug);
    expect(doc?.revision).toBe(50);
    expect(doc?.visible && doc.product.title).toBe("From the future");
  });

  it("applies the newest of out-of-order events in one batch", async () => {
    const product = await adminProduct({ usd: 2000 });
    await setUsdPrice(product.variants[0]?.id ?? "", 1700);
    await setUsdPrice(product.variants[0]?.id ?? "", 1600);
    const { result } = await deliverCatalogEvents([
      productEvent({ ...product, revision: 3 }),
      productEvent({ ...product, revision: 2 }),
    ]);
    expect(result.explicitAcks).toHaveLength(2);
    const doc = await productDocument(product.slug);
    expect(doc?.revision).toBe(3);
    expect(doc?.visible && doc.product.variants[0]?.prices.USD?.amount).toBe(1600);
  });

  it("starts a new listing generation so cached category pages show the new price", async () => {
    const category = await adminCategory(`cat-${unique()}`);
    const product = await adminProduct({ usd: 2000, category_ids: [category.id] });
    const first = (await (await call(`/api/products?category=${category.slug}`)).json()) as ProductList;
    expect(first.items[0]?.price.amount).toBe(2000);

    await setUsdPrice(product.variants[0]?.id ?? "", 1000);
    await deliverCatalogEvents([productEvent({ ...product, revision: 2 })]);
    const after = (await (await call(`/api/products?category=${category.slug}`)).json()) as ProductList;
    expect(after.items[0]?.price.amount).toBe(1000);
  });

  it("drops a product from the listing of the category it left", async () => {
    const from = await adminCategory(`from-${unique()}`);
    const to = await adminCategory(`to-${unique()}`);
    const product = await adminProduct({ category_ids: [from.id] });
    await deliverCatalogEvents([productEvent(product, { change: "created" })]);
    expect(await listingIds(`category=${from.slug}`)).toEqual([product.id]);

    const moved = await callJson(
      `/admin/api/products/${product.id}`,
      "PATCH",
      { category_ids: [to.id] },
      ADMIN,
    );
    expect(moved.status).toBe(200);
    await deliverCatalogEvents([productEvent({ ...product, revision: 2 })]);
    expect(await listingIds(`category=${from.slug}`)).toEqual([]);
    expect(await listingIds(`category=${to.slug}`)).toEqual([product.id]);
  });

  it("answers 404 on the former slug after a rename, even if it was cached", async () => {
    const product = await adminProduct();
    expect((await call(`/api/products/${product.slug}`)).status).toBe(200);
    const renamed = `renamed-${unique()}`;
    const res = await callJson(`/admin/api/products/${product.id}`, "PATCH", { slug: renamed }, ADMIN);
    expect(res.status).toBe(200);
    await deliverCatalogEvents([
      productEvent({ ...product, revision: 2 }, { slugs: [renamed, product.slug] }),
    ]);

    expect(await productDocument(product.slug)).toMatchObject({ visible: false, product_id: product.id });
    await expectProblem(await call(`/api/products/${product.slug}`), 404, "product_not_found");
    const now = (await (await call(`/api/products/${renamed}`)).json()) as ProductDetail;
    expect(now).toMatchObject({ id: product.id, slug: renamed, revision: 2 });
  });

  it("acks malformed events and retries only the entity whose projection failed", async () => {
    const healthy = await adminProduct();
    const ahead = await adminProduct();
    const { batch, result } = await deliverCatalogEvents([
      { type: "catalog.changed", nonsense: true },
      productEvent(healthy),
      // D1 says revision 1: an event claiming 9 means a lagging read, so it must be retried.
      productEvent({ ...ahead, revision: 9 }),
    ]);
    const [malformed, ok, failing] = batch.messages;
    expect(result.explicitAcks.sort()).toEqual([malformed?.id, ok?.id].sort());
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([failing?.id]);
  });
});
