import { describe, expect, it } from "vitest";
import { adminProduct, unique } from "./catalog-fixtures";
import { ADMIN, call } from "./helpers";

async function searchHits(q: string): Promise<string[]> {
  const res = await call(`/api/search?q=${encodeURIComponent(q)}&currency=USD`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { slug: string }[] };
  return body.results.map((item) => item.slug);
}

async function until(probe: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("search index did not catch up in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("search index fed by catalog events", () => {
  it("finds a product created through the admin API, and drops it once archived, via the real queue", async () => {
    const word = `zyx${unique()}`;
    const product = await adminProduct({ title: `Quilted ${word} jacket` });
    await until(async () => (await searchHits(word)).includes(product.slug));

    const archived = await call(`/admin/api/products/${product.id}`, { method: "DELETE", headers: ADMIN });
    expect(archived.status).toBeLessThan(300);
    await until(async () => !(await searchHits(word)).includes(product.slug));
  });
});
