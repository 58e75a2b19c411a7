import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN, call, expectProblem } from "./helpers";
import { indexProducts, insertProduct, randomTag } from "./search-fixture";

const searchStatus = async (q: string) => {
  const res = await call(`/api/search?q=${encodeURIComponent(q)}`);
  const body = await res.text();
  return { status: res.status, body };
};

describe("hostile search input", () => {
  beforeAll(async () => {
    await indexProducts(await insertProduct({ title: "Crème brûlée torch", description: "NEAR AND OR" }));
  });

  it.each([
    '"',
    '"unterminated',
    "*",
    "sneak*",
    "(",
    "()",
    ")(",
    "title:torch",
    "^torch",
    "-torch",
    "torch -",
    "NEAR(torch brulee)",
    "torch AND",
    "OR",
    "AND OR NOT NEAR",
    "{title}: x",
    "'; DROP TABLE search_docs; --",
    "\u0000",
    "a\u0000b",
    "👟👟👟",
    "كريم",
    "クリーム ブリュレ",
    "ｔｏｒｃｈ",
    " \t\n ",
    "x".repeat(256),
    "word ".repeat(51),
  ])("answers %j without a server error", async (q) => {
    const { status, body } = await searchStatus(q);
    expect(status, body).toBe(200);
  });

  it("finds text through FTS operator noise and full-width or accented forms", async () => {
    for (const q of ['"creme" AND torch*', "ｃｒｅｍｅ", "CRÈME (brulee)", "torch NEAR:creme"]) {
      const res = await call(`/api/search?q=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { results: { title: string }[] };
      expect(
        body.results.map((r) => r.title),
        q,
      ).toContain("Crème brûlée torch");
    }
  });

  it("rejects over-long queries with 422", async () => {
    await expectProblem(await call(`/api/search?q=${"x".repeat(257)}`), 422, "validation_failed");
    await expectProblem(await call(`/api/search/suggest?q=${"x".repeat(5000)}`), 422, "validation_failed");
  });

  it("treats an empty or symbols-only query as browsing", async () => {
    for (const q of ["", "***", "🙂"]) {
      const res = await call(`/api/search?q=${encodeURIComponent(q)}`);
      expect(((await res.json()) as { query: { mode: string } }).query.mode).toBe("browse");
    }
  });

  it("never fails on arbitrary unicode text (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 80 }), async (q) => {
        const [search, suggest] = await Promise.all([
          call(`/api/search?q=${encodeURIComponent(q)}`),
          call(`/api/search/suggest?q=${encodeURIComponent(q)}`),
        ]);
        await search.arrayBuffer();
        await suggest.arrayBuffer();
        return search.status === 200 && suggest.status === 200;
      }),
      { numRuns: 60 },
    );
  });
});

describe("zero-result log", () => {
  interface ZeroBody {
    queries: { query: string; count: number; example: string }[];
  }
  const zeroResults = async () => {
    const res = await call("/admin/api/search/zero-results?limit=200", { headers: ADMIN });
    expect(res.status).toBe(200);
    return (await res.json()) as ZeroBody;
  };
  const waitFor = async (predicate: (body: ZeroBody) => boolean) => {
    for (let i = 0; i < 40; i++) {
      const body = await zeroResults();
      if (predicate(body)) return body;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error("zero-result log never caught up");
  };

  it("counts zero-result searches per normalised query and lists the top ones", async () => {
    const tag = randomTag();
    for (const q of [`${tag}nothing`, `  ${tag.toUpperCase()}NOTHING!`, `${tag}nothing`]) {
      const res = await call(`/api/search?q=${encodeURIComponent(q)}`);
      expect(((await res.json()) as { total: number }).total).toBe(0);
    }
    const body = await waitFor((b) => b.queries.some((q) => q.query === `${tag}nothing` && q.count === 3));
    const entry = body.queries.find((q) => q.query === `${tag}nothing`);
    expect(entry?.count).toBe(3);
    const counts = body.queries.map((q) => q.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it("does not log searches that found something, nor browsing", async () => {
    const tag = randomTag();
    await indexProducts(await insertProduct({ title: `${tag}found` }));
    await call(`/api/search?q=${tag}found`);
    await call("/api/search?q=");
    const marker = `${tag}marker`;
    await call(`/api/search?q=${marker}`);
    const body = await waitFor((b) => b.queries.some((q) => q.query === marker));
    expect(body.queries.some((q) => q.query === `${tag}found`)).toBe(false);
  });

  it("requires the catalog:read scope", async () => {
    await expectProblem(await call("/admin/api/search/zero-results"), 401, "unauthorized");
  });
});
