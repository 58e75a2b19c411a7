import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  handleSearchIndexEvent,
  handleSearchIndexEvents,
  setProductAvailability,
} from "../workers/search/indexer";
import { searchReplica, syncReplicas } from "../workers/search/replicas";
import { markSearchIndexChanged } from "../workers/search/result-cache";
import { type SearchInput, type SearchSort, searchProducts } from "../workers/search/service";
import { ADMIN, call, expectProblem } from "./helpers";
import { insertCategories, insertProduct, productEvent, randomTag, updateProduct } from "./search-fixture";

const input = (over: Partial<SearchInput>): SearchInput => ({
  q: "",
  currency: "USD",
  sort: "relevance",
  limit: 50,
  category: [],
  brand: [],
  price: [],
  attributes: {},
  availability: [],
  ...over,
});

/** A generation no replica has seen, so the replica checks D1 for changes first. */
const fresh = () => `test-${randomTag()}`;

const replicaAnswer = async (search: SearchInput) => {
  const found = await searchReplica(env, search, fresh());
  if (!found) throw new Error("replica still catching up");
  return found;
};

describe("search replicas", () => {
  const tag = randomTag();
  const root = `${tag}-root`;
  const shoes = `${tag}-shoes`;
  const acc = `${tag}-acc`;
  const ids: string[] = [];
  const words = ["sneakers", "runner", "canvas", "wool", "leather"];
  const brands = ["Stride", "Urbano", "Kestrel"];

  beforeAll(async () => {
    await insertCategories({
      [root]: { name: "Everything", parent: null },
      [shoes]: { name: "Footwear", parent: root },
      [acc]: { name: "Accessories", parent: root },
    });
    // Deterministic variety: titles, brands, categories, options, prices (some unpriced in
    // EUR), equal popularity and creation times to exercise every tie-break.
    for (let i = 0; i < 36; i++) {
      ids.push(
        await insertProduct({
          title: `${tag} ${words[i % 5]} ${words[(i * 3 + 1) % 5]} ${i}`,
          brand: brands[i % 3] as string,
          description: `${words[(i + 2) % 5]} for ${tag}`,
          categories: [i % 2 === 0 ? shoes : acc],
          popularity: (i * 7) % 4,
          createdAt: 1_700_000_000_000 + (i % 6) * 1000,
          attributes: i % 4 === 0 ? { material: words[i % 5] as string } : {},
          variants: [
            {
              sku: `${tag}-${i}`,
              options: { size: String(8 + (i % 3)) },
              prices:
                i % 5 === 0
                  ? { USD: 1000 + (i % 7) * 1500 }
                  : { USD: 1000 + (i % 7) * 1500, EUR: 900 + i * 100 },
            },
          ],
        }),
      );
    }
    // One queue batch, as the consumer gets it.
    await handleSearchIndexEvents(env, await Promise.all(ids.map((id) => productEvent(id, "created"))));
    await setProductAvailability(env, [
      { product_id: ids[3] as string, in_stock: false },
      { product_id: ids[8] as string, in_stock: false },
    ]);
  }, 60_000);

  it("answers exactly as the D1 index does: results, order, totals, facets and cursors (property)", async () => {
    const arbitrary = fc.record({
      q: fc.constantFrom("", tag, `${tag} sneakers`, "runn", "snaekers", "canvas wool", "nothingmatches"),
      sort: fc.constantFrom<SearchSort>("relevance", "price_asc", "price_desc", "newest"),
      currency: fc.constantFrom<"USD" | "EUR">("USD", "EUR"),
      limit: fc.integer({ min: 1, max: 7 }),
      category: fc.subarray([shoes, acc]),
      brand: fc.subarray(brands),
      availability: fc.subarray(["in_stock", "sold_out"]),
      size: fc.subarray(["8", "9", "10"]),
      range: fc.option(fc.tuple(fc.integer({ min: 0, max: 6000 }), fc.integer({ min: 6000, max: 12000 }))),
      pages: fc.integer({ min: 1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (draw) => {
        let search = input({
          q: draw.q,
          sort: draw.sort,
          currency: draw.currency,
          limit: draw.limit,
          category: draw.category.length > 0 ? draw.category : [root],
          brand: draw.brand,
          availability: draw.availability,
          attributes: draw.size.length > 0 ? { size: draw.size } : {},
          min_price: draw.range?.[0],
          max_price: draw.range?.[1],
        });
        for (let page = 0; page < draw.pages; page++) {
          const d1 = await searchProducts(env.DB, search);
          const replica = await replicaAnswer(search);
          expect(replica).toEqual(d1);
          if (!d1.next_cursor) break;
          search = { ...search, cursor: d1.next_cursor };
        }
      }),
      { numRuns: 60 },
    );
  });

  it("reflects a re-indexed product on the next search with a new generation", async () => {
    const id = ids[10] as string;
    await updateProduct(id, { title: `${tag} zeppelin` });
    await handleSearchIndexEvent(env, await productEvent(id));
    const found = await replicaAnswer(input({ q: `${tag} zeppelin` }));
    expect(found.results.map((r) => r.product_id)).toEqual([id]);
  });

  it("drops an archived product and follows availability changes", async () => {
    const id = ids[11] as string;
    await updateProduct(id, { status: "archived" });
    await handleSearchIndexEvent(env, await productEvent(id, "archived"));
    const browse = await replicaAnswer(input({ category: [root], limit: 200 }));
    expect(browse.results.map((r) => r.product_id)).not.toContain(id);
    expect(browse.total).toBe(ids.length - 1);

    await setProductAvailability(env, [{ product_id: ids[12] as string, in_stock: false }]);
    const soldOut = await replicaAnswer(input({ category: [root], availability: ["sold_out"], limit: 200 }));
    expect(soldOut.results.map((r) => r.product_id).sort()).toEqual(
      [ids[3], ids[8], ids[12]].map(String).sort(),
    );
  });

  it("re-ranks a cached text match when only availability changes", async () => {
    const search = input({ q: `${tag} sneakers`, category: [root] });
    const before = await replicaAnswer(search);
    const first = before.results[0]?.product_id as string;
    await setProductAvailability(env, [{ product_id: first, in_stock: false }]);
    try {
      const after = await replicaAnswer(search);
      expect(after).toEqual(await searchProducts(env.DB, search));
      // Sold out now: behind every in-stock match, whatever its text score.
      const at = after.results.findIndex((r) => r.product_id === first);
      expect(after.results[at]?.in_stock).toBe(false);
      expect(after.results.slice(at).every((r) => !r.in_stock)).toBe(true);
      expect(after.results[0]?.product_id).not.toBe(first);
    } finally {
      await setProductAvailability(env, [{ product_id: first, in_stock: true }]);
    }
  });

  it("checks D1 for changes again once the generation in KV moves", async () => {
    const id = ids[13] as string;
    await updateProduct(id, { title: `${tag} dirigible` });
    await handleSearchIndexEvent(env, await productEvent(id));
    await markSearchIndexChanged(env);
    const res = await call(`/api/search?q=${tag}+dirigible`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { product_id: string }[] };
    expect(body.results.map((r) => r.product_id)).toEqual([id]);
  });

  it("reports every replica caught up through the admin sync route", async () => {
    const res = await call("/admin/api/search/replicas/sync", { method: "POST", headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { caught_up: boolean; replicas: { seq: number; docs: number }[] };
    expect(body.caught_up).toBe(true);
    expect(body.replicas.length).toBeGreaterThan(0);
    for (const replica of body.replicas) expect(replica.docs).toBeGreaterThanOrEqual(ids.length - 1);
    expect(new Set(body.replicas.map((r) => r.seq)).size).toBe(1);
    expect((await syncReplicas(env)).every((r) => r.applied === 0)).toBe(true);
  });

  it("leaves every search to D1 when SEARCH_REPLICAS is 0", async () => {
    const off = { ...env, SEARCH_REPLICAS: "0" };
    expect(await searchReplica(off, input({ q: tag }), fresh())).toBeNull();
    expect(await syncReplicas(off)).toEqual([]);
  });

  it("refuses the sync route without a token", async () => {
    const res = await call("/admin/api/search/replicas/sync", { method: "POST" });
    await expectProblem(res, 401, "unauthorized");
  });
});
