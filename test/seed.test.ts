import { env } from "cloudflare:workers";
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as schema from "../db/schema";
import {
  columnName,
  FLASH_SALE,
  PLACEHOLDER_IMAGES,
  SEED_CURRENCIES,
  seedCategories,
  seedProducts,
  seedSql,
  seedStockPlan,
} from "../db/seed";

const all = (options?: Parameters<typeof seedProducts>[0]) => [...seedProducts(options)];

async function applySeed(options: Parameters<typeof seedSql>[0]) {
  const statements = [...seedSql(options)].map((sql) => env.DB.prepare(sql));
  await env.DB.batch(statements);
}

async function count(table: string): Promise<number> {
  const row = await env.DB.prepare(`select count(*) as n from ${table}`).first<{ n: number }>();
  return row?.n ?? -1;
}

describe("demo catalog seed", () => {
  it("is deterministic for a seed and differs for another seed", () => {
    const first = [...seedSql({ products: 40 })].join("\n");
    expect([...seedSql({ products: 40 })].join("\n")).toBe(first);
    expect([...seedSql({ products: 40, seed: 2 })].join("\n")).not.toBe(first);
  });

  it("yields 200 active products by default plus a few drafts and archived ones", () => {
    const items = all();
    const byStatus = Map.groupBy(items, (item) => item.product.status);
    expect(byStatus.get("active")?.length).toBe(200);
    expect(byStatus.get("draft")?.length).toBeGreaterThanOrEqual(2);
    expect(byStatus.get("archived")?.length).toBeGreaterThanOrEqual(1);
  });

  it("keeps slugs, ids, SKUs and barcodes unique for any seed and size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer(), (products, seed) => {
        const items = all({ products, seed });
        const variants = items.flatMap((item) => item.variants);
        const unique = (values: unknown[]) => new Set(values).size === values.length;
        expect(unique(items.map((item) => item.product.slug))).toBe(true);
        expect(unique(items.map((item) => item.product.id))).toBe(true);
        expect(unique(variants.map((variant) => variant.sku))).toBe(true);
        expect(unique(variants.map((variant) => variant.id))).toBe(true);
        expect(unique(variants.map((variant) => variant.barcode))).toBe(true);
        expect(unique(items.flatMap((item) => item.media.map((m) => m.id)))).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it("prices every variant in USD, EUR and GBP as integer minor units, compare-at above the price", () => {
    for (const item of all()) {
      for (const variant of item.variants) {
        const prices = item.prices.filter((price) => price.variantId === variant.id);
        expect(prices.map((price) => price.currency).sort()).toEqual([...SEED_CURRENCIES].sort());
        for (const price of prices) {
          expect(Number.isSafeInteger(price.amount) && price.amount > 0).toBe(true);
          if (price.compareAtAmount != null) expect(price.compareAtAmount).toBeGreaterThan(price.amount);
        }
      }
    }
    expect(all().some((item) => item.prices.some((price) => price.compareAtAmount != null))).toBe(true);
  });

  it("gives variants size and colour options and every product a leaf category of the tree", () => {
    const categories = seedCategories();
    const ids = new Set<string>();
    for (const category of categories) {
      if (category.parentId) expect(ids.has(category.parentId)).toBe(true);
      ids.add(category.id);
    }
    const parents = new Set(categories.map((category) => category.parentId));
    for (const item of all()) {
      expect(item.categories).toHaveLength(1);
      const link = item.categories[0];
      expect(link && ids.has(link.categoryId) && !parents.has(link.categoryId)).toBe(true);
      for (const variant of item.variants) {
        expect(Object.keys(variant.options ?? {}).sort()).toEqual(["colour", "size"]);
      }
    }
  });

  it("marks exactly one flash-sale product and plans stock for every SKU", () => {
    const items = all();
    const flash = items.filter((item) =>
      item.attributes.some((a) => a.name === "collection" && a.value === "flash-sale"),
    );
    expect(flash.map((item) => item.product.slug)).toEqual([FLASH_SALE.slug]);
    expect(flash[0]?.variants.map((variant) => variant.sku)).toEqual([FLASH_SALE.sku]);

    const plan = new Map(seedStockPlan());
    const skus = items.flatMap((item) => item.variants.map((variant) => variant.sku));
    expect([...plan.keys()].sort()).toEqual(skus.sort());
    expect(plan.get(FLASH_SALE.sku)).toBe(FLASH_SALE.onHand);
    expect([...plan.values()].every((onHand) => Number.isSafeInteger(onHand) && onHand >= 0)).toBe(true);
    expect([...plan.values()].some((onHand) => onHand === 0)).toBe(true);
  });

  it("points media at placeholder SVGs shipped in static/ whose size matches the rows", async () => {
    const urls = new Set(all().flatMap((item) => item.media.map((m) => `${m.url} ${m.width}x${m.height}`)));
    expect(urls.size).toBe(Object.keys(PLACEHOLDER_IMAGES).length);
    for (const entry of urls) {
      const [url, size] = entry.split(" ");
      const res = await env.ASSETS.fetch(`http://popcart.test${url}`);
      expect(res.status, url).toBe(200);
      const svg = await res.text();
      const [width, height] = (size ?? "").split("x");
      expect(svg).toContain(`width="${width}" height="${height}"`);
    }
  });

  it("maps every generated field onto a column of its drizzle table", () => {
    const first = all({ products: 2 })[0];
    if (!first) throw new Error("no products generated");
    const samples: [SQLiteTable, object | undefined][] = [
      [schema.categories, seedCategories()[0]],
      [schema.products, first.product],
      [schema.variants, first.variants[0]],
      [schema.prices, first.prices[0]],
      [schema.productCategories, first.categories[0]],
      [schema.media, first.media[0]],
      [schema.productAttributes, first.attributes[0]],
    ];
    for (const [table, row] of samples) {
      const { columns } = getTableConfig(table);
      const generated = Object.keys(row ?? {}).map(columnName);
      expect(columns.map((column) => column.name)).toEqual(expect.arrayContaining(generated));
      const required = columns.filter((column) => column.notNull && !column.hasDefault).map((c) => c.name);
      expect(generated).toEqual(expect.arrayContaining(required));
    }
  });

  it("keeps every statement under D1's 100 KB limit even with large chunks", () => {
    for (const sql of seedSql({ products: 300, chunk: 300 })) {
      expect(new TextEncoder().encode(sql).length).toBeLessThan(100_000);
    }
  });

  it("loads into D1, and re-running it adds nothing and keeps local edits", async () => {
    await applySeed({ products: 30 });
    const counts = async () =>
      Promise.all(
        [
          "products",
          "variants",
          "prices",
          "categories",
          "product_categories",
          "media",
          "product_attributes",
        ].map(count),
      );
    const before = await counts();
    expect(before[0]).toBe(all({ products: 30 }).length);
    await env.DB.prepare("update products set title = 'Edited locally' where slug = ?")
      .bind(FLASH_SALE.slug)
      .run();

    await applySeed({ products: 30 });
    expect(await counts()).toEqual(before);
    const edited = await env.DB.prepare("select title from products where slug = ?")
      .bind(FLASH_SALE.slug)
      .first<{ title: string }>();
    expect(edited?.title).toBe("Edited locally");
  });
});
