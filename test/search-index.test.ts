import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  decodeRebuildCursor,
  handleSearchIndexEvent,
  handleSearchIndexEvents,
  type RebuildCursor,
  rebuildSearchIndex,
} from "../workers/search/indexer";
import { ADMIN, call, expectProblem } from "./helpers";
import {
  indexProducts,
  insertCategories,
  insertProduct,
  productEvent,
  randomTag,
  updateProduct,
} from "./search-fixture";

const titles = async (q: string) => {
  const res = await call(`/api/search?q=${encodeURIComponent(q)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { title: string }[] }).results.map((r) => r.title);
};
interface Suggestions {
  queries: { text: string }[];
  products: { title: string; slug: string }[];
  categories: { name: string; slug: string }[];
}
const suggest = async (q: string) => {
  const res = await call(`/api/search/suggest?q=${encodeURIComponent(q)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Suggestions;
};

describe("index updates from catalog events", () => {
  it("shows a created product in results and suggestions once its event is handled", async () => {
    const tag = randomTag();
    const id = await insertProduct({ title: `${tag}widget Deluxe`, variants: [] });
    expect(await titles(`${tag}widget`)).toEqual([]);
    expect((await suggest(`${tag}wid`)).products).toEqual([]);
    const result = await handleSearchIndexEvent(env, await productEvent(id, "created"));
    expect(result).toMatchObject({ applied: true, written: 1 });
    expect(await titles(`${tag}widget`)).toEqual([`${tag}widget Deluxe`]);
    const s = await suggest(`${tag}wid`);
    expect(s.products.map((p) => p.title)).toEqual([`${tag}widget Deluxe`]);
    expect(s.queries.map((q) => q.text)).toContain(`${tag}widget`);
  });

  it("reflects a renamed product and forgets its old words", async () => {
    const tag = randomTag();
    const id = await insertProduct({ title: `${tag}alpha lamp`, variants: [] });
    await indexProducts(id);
    await updateProduct(id, { title: `${tag}omega lamp` });
    await handleSearchIndexEvent(env, await productEvent(id));
    expect(await titles(`${tag}omega`)).toEqual([`${tag}omega lamp`]);
    expect(await titles(`${tag}alpha`)).toEqual([]);
    expect((await suggest(`${tag}al`)).products).toEqual([]);
    expect((await suggest(`${tag}om`)).products.map((p) => p.title)).toEqual([`${tag}omega lamp`]);
    // The old word left the vocabulary, so it is neither suggested nor used as a correction.
    expect((await suggest(`${tag}al`)).queries).toEqual([]);
  });

  it("removes an archived product from results and suggestions", async () => {
    const tag = randomTag();
    const id = await insertProduct({ title: `${tag}gizmo`, variants: [] });
    await indexProducts(id);
    expect(await titles(`${tag}gizmo`)).toHaveLength(1);
    await updateProduct(id, { status: "archived" });
    const result = await handleSearchIndexEvent(env, await productEvent(id, "archived"));
    expect(result).toMatchObject({ applied: true, removed: 1 });
    expect(await titles(`${tag}gizmo`)).toEqual([]);
    expect((await suggest(`${tag}giz`)).products).toEqual([]);
  });

  it("ignores replayed and stale events", async () => {
    const tag = randomTag();
    const id = await insertProduct({ title: `${tag}thing one`, variants: [] });
    const created = await productEvent(id, "created");
    await handleSearchIndexEvent(env, created);
    expect(await handleSearchIndexEvent(env, created)).toMatchObject({ applied: false });
    await updateProduct(id, { title: `${tag}thing two` });
    const updated = await productEvent(id);
    await handleSearchIndexEvent(env, updated);
    // A late copy of the older event changes nothing.
    expect(await handleSearchIndexEvent(env, created)).toMatchObject({ applied: false });
    expect(await titles(`${tag}thing`)).toEqual([`${tag}thing two`]);
  });

  it("applies a queue batch once per product, latest revision winning", async () => {
    const tag = randomTag();
    const kept = await insertProduct({ title: `${tag}kept v1`, variants: [] });
    const gone = await insertProduct({ title: `${tag}gone`, variants: [] });
    await indexProducts(gone);
    const created = await productEvent(kept, "created");
    await updateProduct(kept, { title: `${tag}kept v2` });
    const updated = await productEvent(kept);
    await updateProduct(gone, { status: "archived" });
    const archived = await productEvent(gone, "archived");
    const result = await handleSearchIndexEvents(env, [updated, archived, created, updated]);
    expect(result).toMatchObject({ applied: true, written: 1, removed: 1 });
    expect(await titles(tag)).toEqual([`${tag}kept v2`]);
    expect(await handleSearchIndexEvents(env, [created, updated])).toMatchObject({ applied: false });
  });

  it("never indexes draft products", async () => {
    const tag = randomTag();
    const id = await insertProduct({ title: `${tag}draft`, status: "draft", variants: [] });
    await indexProducts(id);
    expect(await titles(`${tag}draft`)).toEqual([]);
  });

  it("re-indexes a category's products when the category is renamed", async () => {
    const tag = randomTag();
    await insertCategories({ [`${tag}-c`]: { name: `${tag}before`, parent: null } });
    const id = await insertProduct({ title: "Plain mug", categories: [`${tag}-c`], variants: [] });
    await indexProducts(id);
    expect(await titles(`${tag}before`)).toEqual(["Plain mug"]);
    await env.DB.prepare("UPDATE categories SET name = ?1 WHERE id = ?2")
      .bind(`${tag}after`, `${tag}-c`)
      .run();
    await handleSearchIndexEvent(env, {
      id: `evt_${tag}`,
      type: "catalog.changed",
      version: 1,
      occurred_at: new Date().toISOString(),
      entity: "category",
      entity_id: `${tag}-c`,
      revision: Date.now(),
      change: "updated",
      slugs: [],
    });
    expect(await titles(`${tag}after`)).toEqual(["Plain mug"]);
    expect(await titles(`${tag}before`)).toEqual([]);
    expect((await suggest(`${tag}af`)).categories.map((c) => c.slug)).toEqual([`${tag}-c`]);
  });
});

describe("autocomplete", () => {
  it("completes multi-word input, matching earlier words as prefixes", async () => {
    const tag = randomTag();
    const ids = [
      await insertProduct({ title: `${tag}runner Blue Jacket`, popularity: 5, variants: [] }),
      await insertProduct({ title: `${tag}runner Red Jacket`, popularity: 9, variants: [] }),
      await insertProduct({ title: `${tag}runner Blue Cap`, variants: [] }),
    ];
    await indexProducts(...ids);
    const all = await suggest(`${tag}run`);
    expect(all.products.map((p) => p.title)).toEqual([
      `${tag}runner Red Jacket`,
      `${tag}runner Blue Jacket`,
      `${tag}runner Blue Cap`,
    ]);
    const narrowed = await suggest(`blu ${tag}run`);
    expect(narrowed.products.map((p) => p.title)).toEqual([
      `${tag}runner Blue Jacket`,
      `${tag}runner Blue Cap`,
    ]);
    expect(narrowed.queries[0]?.text).toBe(`blu ${tag}runner`);
  });

  it("answers short popular prefixes from the edge cache", async () => {
    const first = await call("/api/search/suggest?q=zq");
    expect(first.status).toBe(200);
    expect(first.headers.get("x-suggest-cache")).toMatch(/hit|miss/);
    // The cache write happens after the response; poll until it lands.
    let cached = "";
    for (let i = 0; i < 20 && cached !== "hit"; i++) {
      cached = (await call("/api/search/suggest?q=zq")).headers.get("x-suggest-cache") ?? "";
    }
    expect(cached).toBe("hit");
    const long = await call(`/api/search/suggest?q=${randomTag()}`);
    expect(long.headers.get("x-suggest-cache")).toBe("bypass");
  });

  it("returns empty lists below two letters and for symbols only", async () => {
    for (const q of ["", "a", "🙂", "***", '"']) {
      const body = await suggest(q);
      expect(body).toMatchObject({ queries: [], products: [], categories: [] });
    }
  });
});

describe("full rebuild", () => {
  it("requires catalog:write and rebuilds search and suggestions from the catalog", async () => {
    await expectProblem(await call("/admin/api/search/reindex", { method: "POST" }), 401, "unauthorized");
    const tag = randomTag();
    const id = await insertProduct({ title: `${tag}rebuilt`, variants: [] });
    // No event: only the rebuild can find it.
    expect(await titles(`${tag}rebuilt`)).toEqual([]);
    let path = "/admin/api/search/reindex";
    let indexed = 0;
    for (let step = 0; step < 50; step++) {
      const res = await call(path, { method: "POST", headers: ADMIN });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { done: boolean; next_cursor: string | null; indexed: number };
      indexed += body.indexed;
      if (body.done) break;
      path = `/admin/api/search/reindex?cursor=${body.next_cursor}`;
    }
    expect(indexed).toBeGreaterThanOrEqual(1);
    expect(await titles(`${tag}rebuilt`)).toEqual([`${tag}rebuilt`]);
    expect((await suggest(`${tag}reb`)).products.map((p) => p.title)).toEqual([`${tag}rebuilt`]);
    expect(id).toMatch(/^prod_/);
    await expectProblem(
      await call("/admin/api/search/reindex?cursor=nonsense", { method: "POST", headers: ADMIN }),
      422,
      "validation_failed",
    );
  });

  it("resumes from a cursor and removes products that stopped being active", async () => {
    const tag = randomTag();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await insertProduct({ title: `${tag}step ${i}`, variants: [] }));
    await indexProducts(...ids);
    // Archived behind the index's back (no event): only the sweep can notice.
    await env.DB.prepare("UPDATE products SET status = 'archived' WHERE id = ?1").bind(ids[0]).run();
    let cursor: RebuildCursor | null = null;
    let steps = 0;
    let removed = 0;
    for (; steps < 500; steps++) {
      const step = await rebuildSearchIndex(env, { cursor, budgetMs: 0, chunkSize: 2 });
      removed += step.removed;
      if (step.done) break;
      cursor = decodeRebuildCursor(step.next_cursor ?? "");
    }
    expect(steps).toBeGreaterThan(3);
    expect(removed).toBeGreaterThanOrEqual(1);
    expect((await titles(`${tag}step`)).sort()).toEqual([1, 2, 3, 4].map((i) => `${tag}step ${i}`));
  });
});

describe("search result cache", () => {
  const searchOnce = async (path: string) => {
    const res = await call(path);
    expect(res.status).toBe(200);
    return { cache: res.headers.get("x-search-cache"), body: (await res.json()) as { total: number } };
  };
  // The store runs after the response (waitUntil), so the first repeat may still miss.
  const untilHit = async (path: string) => {
    for (let i = 0; i < 40; i++) {
      const answer = await searchOnce(path);
      if (answer.cache === "hit") return answer;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${path} never came from the cache`);
  };

  it("answers a repeated search from the cache until the index changes", async () => {
    const tag = randomTag();
    await indexProducts(await insertProduct({ title: `${tag} lamp` }));
    const first = await searchOnce(`/api/search?q=${tag}`);
    expect(first.cache).toBe("miss");
    expect(first.body.total).toBe(1);
    const repeated = await untilHit(`/api/search?q=${tag}`);
    expect(repeated.body).toEqual(first.body);

    await indexProducts(await insertProduct({ title: `${tag} lamp shade` }));
    const after = await searchOnce(`/api/search?q=${tag}`);
    expect(after.cache).toBe("miss");
    expect(after.body.total).toBe(2);
  });

  it("keeps separate entries per filter, sort and page size", async () => {
    const tag = randomTag();
    await indexProducts(
      await insertProduct({ title: `${tag} mug` }),
      await insertProduct({ title: `${tag} cup` }),
    );
    await untilHit(`/api/search?q=${tag}`);
    for (const variant of [
      `/api/search?q=${tag}&sort=newest`,
      `/api/search?q=${tag}&limit=1`,
      `/api/search?q=${tag}&availability=sold_out`,
    ])
      expect((await searchOnce(variant)).cache).toBe("miss");
    expect((await searchOnce(`/api/search?q=${tag}&availability=sold_out`)).body.total).toBe(0);
  });
});
