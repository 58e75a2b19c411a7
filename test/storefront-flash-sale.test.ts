import { describe, expect, it } from "vitest";
import { ADMIN, call, callJson } from "./helpers";

const rand = () => crypto.randomUUID().slice(0, 8);

async function createProduct(tagged: boolean) {
  const id = rand();
  const sku = `DROP-${id}`;
  const res = await callJson(
    "/admin/api/products",
    "POST",
    {
      slug: `drop-${id}`,
      title: `Drop ${id}`,
      status: "active",
      attributes: tagged ? [{ name: "collection", value: "flash-sale" }] : [],
      variants: [{ sku, title: "One size", prices: [{ currency: "USD", amount: 5000 }] }],
    },
    ADMIN,
  );
  expect(res.status).toBe(201);
  return { slug: `drop-${id}`, sku };
}

async function configureSale(sku: string, startsInMs: number) {
  const stock = await callJson(`/admin/api/inventory/${sku}`, "PUT", { on_hand: 5 }, ADMIN);
  expect(stock.status).toBe(200);
  const sale = await callJson(
    `/admin/api/inventory/${sku}/sale`,
    "PUT",
    {
      sale_starts_at: new Date(Date.now() + startsInMs).toISOString(),
      sale_ends_at: new Date(Date.now() + startsInMs + 3_600_000).toISOString(),
      reserve_on_add_to_cart: true,
      reservation_ttl_seconds: 300,
    },
    ADMIN,
  );
  expect(sale.status).toBe(200);
}

const productData = async (slug: string) => {
  const body = await (await call(`/p/${slug}`)).text();
  const json =
    /<script type="application\/json" id="product-data">(.*?)<\/script>/s.exec(body)?.[1] ?? "null";
  return {
    body,
    data: JSON.parse(json) as {
      sales: Record<string, { starts_at: string; reserve_on_add_to_cart: boolean }>;
    },
  };
};

describe("storefront flash-sale product page", () => {
  it("gives the client the sale window of a tagged product so it can count down to the start", async () => {
    const { slug, sku } = await createProduct(true);
    await configureSale(sku, 10 * 60_000);
    const { body, data } = await productData(slug);
    expect(body).toContain('data-sale="true"');
    expect(Date.parse(data.sales[sku]?.starts_at ?? "")).toBeGreaterThan(Date.now());
    expect(data.sales[sku]?.reserve_on_add_to_cart).toBe(true);
  });

  it("skips sale lookups for products not tagged as flash sales", async () => {
    const { slug, sku } = await createProduct(false);
    await configureSale(sku, 0);
    const { body, data } = await productData(slug);
    expect(body).not.toContain("data-sale");
    expect(data.sales).toEqual({});
  });
});
