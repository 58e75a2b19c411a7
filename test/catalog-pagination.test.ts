import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PRODUCT_SORTS, type ProductList, type ProductSort } from "../workers/catalog/schemas";
import { adminCategory, adminProduct, unique } from "./catalog-fixtures";
import { call } from "./helpers";

interface Modelled {
  id: string;
  created: number;
  price: number;
  title: string;
  popularity: number;
}

/** The order a listing must follow: the sort key, then the id, in the sort's direction. */
function modelOrder(items: Modelled[], sort: ProductSort): string[] {
  const key = (p: Modelled): number | string =>
    ({ newest: p.created, price_asc: p.price, price_desc: p.price, title: p.title, popular: p.popularity })[
      sort
    ];
  const descending = sort === "newest" || sort === "price_desc" || sort === "popular";
  const cmp = (a: Modelled, b: Modelled) => {
    const [ka, kb] = [key(a), key(b)];
    const byKey = ka < kb ? -1 : ka > kb ? 1 : 0;
    const byId = a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return (byKey || byId) * (descending ? -1 : 1);
  };
  return [...items].sort(cmp).map((p) => p.id);
}

async function walk(query: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const suffix: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const body = (await (await call(`/api/products?${query}&limit=${limit}${suffix}`)).json()) as ProductList;
    ids.push(...body.items.map((item) => item.id));
    cursor = body.next_cursor;
    if (!cursor) return ids;
  }
  throw new Error("pagination does not terminate");
}

describe("listing pagination (property)", () => {
  it("visits every product exactly once, in (sort key, id) order, for any page size and ties", async () => {
    const product = fc.record({
      price: fc.constantFrom(100, 200, 300),
      title: fc.constantFrom("Alpha", "Beta"),
      popularity: fc.constantFrom(0, 1),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(product, { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 1, max: 4 }),
        async (specs, limit) => {
          const category = await adminCategory(`prop-${unique()}`);
          const created: Modelled[] = [];
          for (const spec of specs) {
            const p = await adminProduct({ ...spec, usd: spec.price, category_ids: [category.id] });
            created.push({ ...spec, id: p.id, created: Date.parse(p.created_at) });
          }
          for (const sort of PRODUCT_SORTS) {
            expect(await walk(`category=${category.slug}&sort=${sort}`, limit)).toEqual(
              modelOrder(created, sort),
            );
          }
        },
      ),
      { numRuns: 6 },
    );
  });
});
