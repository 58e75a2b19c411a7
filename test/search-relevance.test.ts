import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { setProductAvailability } from "../workers/search/indexer";
import { call } from "./helpers";
import { indexProducts, insertCategories, insertProduct, randomTag } from "./search-fixture";

interface SearchBody {
  query: { mode: string; corrections: { word: string; candidates: string[] }[] };
  results: { product_id: string; title: string; in_stock: boolean }[];
  total: number;
}

const search = async (params: Record<string, string | string[]>) => {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) qs.append(key, v);
  }
  const res = await call(`/api/search?${qs}`);
  expect(res.status).toBe(200);
  return (await res.json()) as SearchBody;
};

describe("search relevance on a fixed fixture", () => {
  const tag = randomTag();
  const root = `${tag}-root`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await insertCategories({
      [root]: { name: "Everything", parent: null },
      [`${tag}-shoes`]: { name: "Footwear", parent: root },
      [`${tag}-acc`]: { name: "Accessories", parent: root },
    });
    ids.trail = await insertProduct({
      title: "Trail Runner Sneakers",
      brand: "Stride",
      description: "Lightweight shoe for rough paths",
      categories: [`${tag}-shoes`],
      popularity: 50,
      variants: [{ sku: `${tag}-TR-9`, options: { size: "9" }, prices: { USD: 8999 } }],
    });
    ids.city = await insertProduct({
      title: "City Sneakers",
      brand: "Urbano",
      description: "Everyday shoe",
      categories: [`${tag}-shoes`],
      popularity: 10,
      variants: [{ sku: `${tag}-CS-1`, prices: { USD: 5999 } }],
    });
    ids.socks = await insertProduct({
      title: "Wool Socks",
      brand: "Stride",
      description: "Warm socks that go well with sneakers",
      categories: [`${tag}-acc`],
      popularity: 500,
      variants: [{ sku: `${tag}-WS-1`, prices: { USD: 1299 } }],
    });
    ids.tote = await insertProduct({
      title: "Canvas Tote",
      brand: "Urbano",
      description: "Carries everything",
      categories: [`${tag}-acc`],
      attributes: { material: "Crème canvas" },
      variants: [{ sku: `${tag}-CT-1`, prices: { USD: 2499 } }],
    });
    await indexProducts(...Object.values(ids));
  });

  it("ranks title matches above description mentions, popular titles first", async () => {
    const body = await search({ q: "sneakers", category: root });
    expect(body.results.map((r) => r.product_id)).toEqual([ids.trail, ids.city, ids.socks]);
  });

  it("puts in-stock products before sold-out ones whatever their text score", async () => {
    await setProductAvailability(env, [{ product_id: ids.trail as string, in_stock: false }]);
    try {
      const body = await search({ q: "sneakers", category: root });
      expect(body.results.map((r) => r.product_id)).toEqual([ids.city, ids.socks, ids.trail]);
      expect(body.results[2]?.in_stock).toBe(false);
    } finally {
      await setProductAvailability(env, [{ product_id: ids.trail as string, in_stock: true }]);
    }
  });

  it("matches the last word as a prefix while typing", async () => {
    const body = await search({ q: "trail runn", category: root });
    expect(body.results.map((r) => r.product_id)).toEqual([ids.trail]);
    const partial = await search({ q: "sneak", category: root });
    expect(partial.total).toBe(3);
  });

  it("does not treat earlier words as prefixes", async () => {
    const body = await search({ q: "sneak runner", category: root });
    expect(body.total).toBe(0);
  });

  it.each([
    ["snaekers", "transposed letters"],
    ["sneekers", "a wrong letter"],
    ["sneakrs", "a missing letter"],
    ["sneakerss", "an extra letter"],
  ])("tolerates %s (%s)", async (typo) => {
    const body = await search({ q: typo, category: root });
    expect(body.results.map((r) => r.product_id)).toEqual([ids.trail, ids.city, ids.socks]);
    expect(body.query.corrections).toEqual([
      { word: typo, candidates: expect.arrayContaining(["sneakers"]) },
    ]);
  });

  it("does not correct words that are two edits away", async () => {
    const body = await search({ q: "snkaeers", category: root });
    expect(body.total).toBe(0);
  });

  it("finds a product by SKU code, punctuation included", async () => {
    const body = await search({ q: `${tag}-CT-1` });
    expect(body.results.map((r) => r.product_id)).toEqual([ids.tote]);
  });

  it("searches brand, category names and attribute values, folding accents", async () => {
    expect((await search({ q: "urbano", category: root })).total).toBe(2);
    expect((await search({ q: "footwear", category: root })).total).toBe(2);
    const accent = await search({ q: "creme", category: root });
    expect(accent.results.map((r) => r.product_id)).toEqual([ids.tote]);
  });

  it("browses by popularity when the query is empty", async () => {
    const body = await search({ q: "", category: root });
    expect(body.query.mode).toBe("browse");
    expect(body.results.map((r) => r.product_id)).toEqual([ids.socks, ids.trail, ids.city, ids.tote]);
  });
});
