import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { handleSearchIndexEvent, setProductAvailability } from "../workers/search/indexer";
import { call, expectProblem } from "./helpers";
import {
  indexProducts,
  insertCategories,
  insertProduct,
  productEvent,
  randomTag,
  updateProduct,
} from "./search-fixture";

interface FacetValue {
  value: string;
  count: number;
  selected: boolean;
  label: string;
}
interface SearchBody {
  results: { product_id: string; price: { amount: number; currency: string } | null }[];
  total: number;
  next_cursor: string | null;
  facets: {
    category: FacetValue[];
    brand: FacetValue[];
    price: (FacetValue & { min: { amount: number } })[];
    availability: FacetValue[];
    attributes: Record<string, FacetValue[]>;
  };
}

const query = (params: Record<string, string | string[] | number>) => {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) qs.append(key, String(v));
  }
  return `/api/search?${qs}`;
};
const search = async (params: Record<string, string | string[] | number>) => {
  const res = await call(query(params));
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as SearchBody;
};
const counts = (values: FacetValue[]) => Object.fromEntries(values.map((v) => [v.value, v.count]));

describe("search facets", () => {
  const tag = randomTag();
  const root = `${tag}-root`;
  const shoes = `${tag}-shoes`;
  const acc = `${tag}-acc`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    await insertCategories({
      [root]: { name: "Everything", parent: null },
      [shoes]: { name: "Footwear", parent: root },
      [acc]: { name: "Accessories", parent: root },
    });
    ids.trail = await insertProduct({
      title: "Trail Runner",
      brand: "Stride",
      categories: [shoes],
      variants: [
        { sku: `${tag}-1a`, options: { size: "9", colour: "Blue" }, prices: { USD: 8999, EUR: 8499 } },
        { sku: `${tag}-1b`, options: { size: "10", colour: "Blue" }, prices: { USD: 9999, EUR: 9499 } },
      ],
    });
    ids.city = await insertProduct({
      title: "City Walker",
      brand: "Urbano",
      categories: [shoes],
      variants: [{ sku: `${tag}-2`, options: { size: "10", colour: "White" }, prices: { USD: 5999 } }],
    });
    ids.socks = await insertProduct({
      title: "Wool Socks",
      brand: "Stride",
      categories: [acc],
      attributes: { colour: "Grey" },
      variants: [{ sku: `${tag}-3`, prices: { USD: 1299 } }],
    });
    ids.tote = await insertProduct({
      title: "Canvas Tote",
      brand: "Urbano",
      categories: [acc],
      attributes: { colour: "Blue" },
      variants: [{ sku: `${tag}-4`, prices: { USD: 2499 } }],
    });
    ids.kit = await insertProduct({
      title: "Cleaning Kit",
      brand: "Kleen",
      categories: [acc],
      variants: [{ sku: `${tag}-5`, prices: { USD: 1999 } }],
    });
    await indexProducts(...Object.values(ids));
    await setProductAvailability(env, [{ product_id: ids.kit as string, in_stock: false }]);
  });

  it("counts every facet over the current result set, ancestors included", async () => {
    const body = await search({ category: root });
    expect(body.total).toBe(5);
    expect(counts(body.facets.category)).toEqual({ [root]: 5, [acc]: 3, [shoes]: 2 });
    expect(body.facets.category.find((c) => c.value === shoes)?.label).toBe("Footwear");
    expect(counts(body.facets.brand)).toEqual({ Stride: 2, Urbano: 2, Kleen: 1 });
    expect(counts(body.facets.attributes.colour ?? [])).toEqual({ Blue: 2, White: 1, Grey: 1 });
    expect(counts(body.facets.attributes.size ?? [])).toEqual({ "10": 2, "9": 1 });
    expect(counts(body.facets.availability)).toEqual({ in_stock: 4, sold_out: 1 });
    // "From" price: the cheapest variant decides the bucket.
    expect(counts(body.facets.price)).toMatchObject({ "0-2500": 3, "2500-5000": 0, "5000-10000": 2 });
  });

  it("ORs values within a facet and keeps that facet's counts as if unselected", async () => {
    const one = await search({ category: root, brand: "Stride" });
    expect(one.results.map((r) => r.product_id).sort()).toEqual([ids.socks, ids.trail].sort());
    expect(counts(one.facets.brand)).toEqual({ Stride: 2, Urbano: 2, Kleen: 1 });
    expect(one.facets.brand.find((b) => b.value === "Stride")?.selected).toBe(true);
    // Other facets count within the selection.
    expect(counts(one.facets.category)).toEqual({ [root]: 2, [acc]: 1, [shoes]: 1 });

    const two = await search({ category: root, brand: ["Stride", "Urbano"] });
    expect(two.total).toBe(4);
  });

  it("ANDs across facets, each facet counted under the others' selections", async () => {
    const body = await search({ category: root, brand: ["Stride", "Urbano"], attr: "colour:Blue" });
    expect(body.results.map((r) => r.product_id).sort()).toEqual([ids.tote, ids.trail].sort());
    // Colour counts apply the brand selection, not the colour one.
    expect(counts(body.facets.attributes.colour ?? [])).toEqual({ Blue: 2, White: 1, Grey: 1 });
    // Brand counts apply the colour selection, not the brand one.
    expect(counts(body.facets.brand)).toEqual({ Stride: 1, Urbano: 1 });
    // Category counts apply both.
    expect(counts(body.facets.category)).toEqual({ [root]: 2, [acc]: 1, [shoes]: 1 });
  });

  it("filters by availability and lists a selected value even at zero", async () => {
    const body = await search({ category: root, availability: "sold_out", brand: "Stride" });
    expect(body.total).toBe(0);
    expect(body.facets.availability.find((a) => a.value === "sold_out")).toMatchObject({
      count: 0,
      selected: true,
    });
    const sold = await search({ category: root, availability: "sold_out" });
    expect(sold.results.map((r) => r.product_id)).toEqual([ids.kit]);
  });

  it("filters prices in the requested currency, by range and by bucket", async () => {
    const range = await search({ category: root, min_price: 2000, max_price: 6000, sort: "price_asc" });
    expect(range.results.map((r) => r.product_id)).toEqual([ids.tote, ids.city]);
    expect(range.results[0]?.price).toEqual({ amount: 2499, currency: "USD" });
    // A range is a plain filter: every facet, price buckets included, counts within it.
    expect(counts(range.facets.price)).toMatchObject({ "0-2500": 1, "2500-5000": 0, "5000-10000": 1 });
    expect(counts(range.facets.brand)).toEqual({ Urbano: 2 });
    const bucket = await search({ category: root, price: "0-2500", sort: "price_asc" });
    expect(bucket.results.map((r) => r.product_id)).toEqual([ids.socks, ids.kit, ids.tote]);
    const eur = await search({ category: root, currency: "EUR", min_price: 0 });
    expect(eur.results.map((r) => r.product_id)).toEqual([ids.trail]);
    expect(eur.results[0]?.price).toEqual({ amount: 8499, currency: "EUR" });
    expect(eur.facets.price.every((p) => p.min.amount >= 0)).toBe(true);
  });

  it("sorts by price both ways, unpriced products last", async () => {
    const asc = await search({ category: root, sort: "price_asc", currency: "EUR" });
    expect(asc.results[0]?.product_id).toBe(ids.trail);
    expect(asc.results.slice(1).every((r) => r.price === null)).toBe(true);
    const desc = await search({ category: root, sort: "price_desc" });
    expect(desc.results.map((r) => r.price?.amount)).toEqual([8999, 5999, 2499, 1999, 1299]);
  });

  it("rejects malformed filters with 422, not 500", async () => {
    await expectProblem(await call(query({ attr: "colour" })), 422, "validation_failed");
    await expectProblem(await call(query({ price: "cheap" })), 422, "validation_failed");
    await expectProblem(await call(query({ min_price: 50, max_price: 10 })), 422, "validation_failed");
    await expectProblem(await call(query({ availability: "maybe" })), 422, "validation_failed");
    await expectProblem(await call(query({ currency: "XXX" })), 422, "validation_failed");
  });
});

describe("search pagination", () => {
  const tag = randomTag();
  const ids: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 23; i++) {
      ids.push(
        await insertProduct({
          title: `${tag} gadget ${i}`,
          description: i % 3 === 0 ? `${tag} ${tag} extra` : "",
          popularity: i % 4,
          variants: [{ sku: `${tag}-${i}`, prices: { USD: 1000 + (i % 5) * 100 } }],
        }),
      );
    }
    await indexProducts(...ids);
  });

  const walk = async (params: Record<string, string | number>) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const body: SearchBody = await search({ ...params, limit: 5, ...(cursor ? { cursor } : {}) });
      seen.push(...body.results.map((r) => r.product_id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    return { seen, pages };
  };

  it.each(["relevance", "price_asc", "price_desc", "newest"])(
    "walks every result exactly once sorted by %s",
    async (sort) => {
      const { seen, pages } = await walk({ q: tag, sort });
      expect(pages).toBe(5);
      expect(new Set(seen).size).toBe(23);
      expect([...seen].sort()).toEqual([...ids].sort());
    },
  );

  it("neither skips nor repeats when products are added between pages", async () => {
    const first = await search({ q: tag, sort: "newest", limit: 5 });
    const late = await insertProduct({ title: `${tag} gadget late`, variants: [] });
    await indexProducts(late);
    const seen = first.results.map((r) => r.product_id);
    let cursor = first.next_cursor;
    while (cursor) {
      const body = await search({ q: tag, sort: "newest", limit: 5, cursor });
      seen.push(...body.results.map((r) => r.product_id));
      cursor = body.next_cursor;
    }
    expect(seen).toHaveLength(23);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it("refuses a cursor issued for another query", async () => {
    const first = await search({ q: tag, limit: 5 });
    const res = await call(query({ q: `${tag} other`, cursor: first.next_cursor ?? "" }));
    await expectProblem(res, 422, "validation_failed");
    await expectProblem(await call(query({ q: tag, cursor: "%%%garbage" })), 422, "validation_failed");
  });
});

describe("facet counts against the results they promise", () => {
  const tag = randomTag();
  const root = `${tag}-all`;
  const brands = ["Alpha", "Beta", "Gamma"];
  const colours = ["Red", "Green", "Blue"];
  const ids: string[] = [];

  beforeAll(async () => {
    await insertCategories({ [root]: { name: "All", parent: null } });
    for (let i = 0; i < 24; i++) {
      ids.push(
        await insertProduct({
          title: `${tag} item ${i}`,
          brand: brands[i % 3] as string,
          categories: [root],
          attributes: { colour: colours[(i * 7) % 3] as string },
          variants: [{ sku: `${tag}-${i}`, prices: { USD: 900 + ((i * 1301) % 30000) } }],
        }),
      );
    }
    await indexProducts(...ids);
    await setProductAvailability(
      env,
      ids.filter((_, i) => i % 5 === 0).map((product_id) => ({ product_id, in_stock: false })),
    );
  });

  type Selection = {
    text: boolean;
    brand: string[];
    colour: string[];
    availability: string[];
    price: string[];
  };
  // With text, selections are tested on each match's facet codes; browsing a small category,
  // the page query drives from the values' doc lists: both paths must agree with the counts.
  const params = (s: Selection) => ({
    ...(s.text ? { q: tag } : {}),
    category: root,
    brand: s.brand,
    availability: s.availability,
    price: s.price,
    attr: s.colour.map((c) => `colour:${c}`),
    limit: 1,
  });
  const listed = (body: SearchBody, facet: Exclude<keyof Selection, "text">) =>
    facet === "colour" ? (body.facets.attributes.colour ?? []) : body.facets[facet];

  it("lists, for every value, the total a shopper gets by picking it instead (property)", async () => {
    const buckets = ["0-2500", "2500-5000", "5000-10000", "10000-20000", "20000-50000"];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          text: fc.boolean(),
          brand: fc.subarray(brands),
          colour: fc.subarray(colours),
          availability: fc.subarray(["in_stock", "sold_out"]),
          price: fc.subarray(buckets),
        }),
        async (selection) => {
          const body = await search(params(selection));
          for (const facet of ["brand", "colour", "availability", "price"] as const) {
            for (const value of listed(body, facet)) {
              const picked = await search(params({ ...selection, [facet]: [value.value] }));
              expect(value.count, `${facet}=${value.value} under ${JSON.stringify(selection)}`).toBe(
                picked.total,
              );
            }
          }
        },
      ),
      { numRuns: 16 },
    );
  });

  it("counts the unfiltered catalog from maintained totals exactly as by scanning it", async () => {
    // Selecting every availability value matches every doc but takes the scanning path.
    const [all, scanned] = await Promise.all([
      search({ limit: 1 }),
      search({ availability: ["in_stock", "sold_out"], limit: 1 }),
    ]);
    expect(all.total).toBe(scanned.total);
    expect(all.total).toBeGreaterThanOrEqual(24);
    for (const facet of ["category", "brand", "price", "availability"] as const)
      expect(counts(all.facets[facet])).toEqual(counts(scanned.facets[facet]));
    expect(all.facets.attributes).toEqual(scanned.facets.attributes);
  });

  it("lists the whole catalog's values for the one facet a browse selects", async () => {
    const [all, one] = await Promise.all([search({ limit: 1 }), search({ brand: "Beta", limit: 1 })]);
    expect(counts(one.facets.brand)).toEqual(counts(all.facets.brand));
    expect(one.facets.brand.find((b) => b.value === "Beta")).toMatchObject({
      selected: true,
      count: one.total,
    });
    expect(Object.keys(counts(one.facets.brand)).length).toBeGreaterThan(1);
  });

  it("moves counts when a product is re-indexed with another brand, and drops them when it is archived", async () => {
    const before = counts((await search({ category: root })).facets.brand);
    const moved = ids[0] as string;
    await env.DB.prepare("UPDATE products SET brand = 'Delta', revision = revision + 1 WHERE id = ?1")
      .bind(moved)
      .run();
    await indexProducts(moved);
    const after = counts((await search({ category: root })).facets.brand);
    expect(after).toEqual({ ...before, Alpha: (before.Alpha ?? 0) - 1, Delta: 1 });

    await updateProduct(moved, { status: "archived" });
    await handleSearchIndexEvent(env, await productEvent(moved));
    const archived = await search({ category: root });
    expect(counts(archived.facets.brand)).toEqual({ ...before, Alpha: (before.Alpha ?? 0) - 1 });
    expect(archived.total).toBe(23);
  });
});
