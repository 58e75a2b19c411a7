import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AdminProduct, AdminVariant } from "../workers/catalog/schemas";
import { adminCategory, adminProduct, unique } from "./catalog-fixtures";
import { ADMIN, call, callJson, expectProblem } from "./helpers";

const READER = { authorization: "Bearer catalog-reader-token" } as const;

const validProduct = (overrides: Record<string, unknown> = {}) => {
  const id = unique();
  return {
    slug: `admin-${id}`,
    title: `Admin ${id}`,
    status: "active",
    variants: [{ sku: `ADM-${id}`, prices: [{ currency: "USD", amount: 1000 }] }],
    ...overrides,
  };
};

const paths = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((e) => e.path).sort();

describe("admin catalog auth", () => {
  it("answers 401 without a token or with an unknown one", async () => {
    const missing = await expectProblem(
      await callJson("/admin/api/products", "POST", validProduct()),
      401,
      "unauthorized",
    );
    expect(missing.status).toBe(401);
    const wrong = await call("/admin/api/products", { headers: { authorization: "Bearer not-a-token" } });
    expect(wrong.headers.get("www-authenticate")).toContain("Bearer");
    await expectProblem(wrong, 401, "unauthorized");
  });

  it("lets a catalog:read token read but answers 403 when it writes", async () => {
    const product = await adminProduct();
    expect((await call(`/admin/api/products/${product.id}`, { headers: READER })).status).toBe(200);
    expect((await call("/admin/api/categories", { headers: READER })).status).toBe(200);
    await expectProblem(
      await callJson("/admin/api/products", "POST", validProduct(), READER),
      403,
      "forbidden",
    );
    await expectProblem(
      await callJson(`/admin/api/variants/${product.variants[0]?.id}`, "PATCH", { title: "x" }, READER),
      403,
      "forbidden",
    );
    await expectProblem(
      await call(`/admin/api/products/${product.id}`, { method: "DELETE", headers: READER }),
      403,
      "forbidden",
    );
  });
});

describe("admin catalog validation", () => {
  it("names every failing field, including unknown ones", async () => {
    const res = await callJson(
      "/admin/api/products",
      "POST",
      {
        slug: "Not A Slug",
        title: "",
        colour: "red",
        variants: [
          {
            sku: "OK-1",
            prices: [{ currency: "USD", amount: 12.5 }],
          },
        ],
      },
      ADMIN,
    );
    const body = await expectProblem(res, 422, "validation_failed");
    expect(paths(body)).toEqual([
      "body.colour",
      "body.slug",
      "body.title",
      "body.variants.0.prices.0.amount",
    ]);

    const duplicates = validProduct({
      variants: [
        {
          sku: "DUP-1",
          prices: [
            { currency: "USD", amount: 1 },
            { currency: "USD", amount: 2 },
          ],
        },
        { sku: "DUP-1" },
      ],
    });
    const dup = await expectProblem(
      await callJson("/admin/api/products", "POST", duplicates, ADMIN),
      422,
      "validation_failed",
    );
    expect(paths(dup)).toEqual(["body.variants.0.prices.1.currency", "body.variants.1.sku"]);
  });

  it("refuses wrong types and unsupported currencies without a 500", async () => {
    const res = await callJson(
      "/admin/api/products",
      "POST",
      validProduct({
        title: 42,
        status: "published",
        featured: "yes",
        variants: [{ sku: "T-1", prices: [{ currency: "XYZ", amount: "100" }] }],
      }),
      ADMIN,
    );
    const body = await expectProblem(res, 422, "validation_failed");
    expect(paths(body)).toEqual([
      "body.featured",
      "body.status",
      "body.title",
      "body.variants.0.prices.0.amount",
      "body.variants.0.prices.0.currency",
    ]);
    await expectProblem(
      await callJson("/admin/api/products", "POST", [1, 2], ADMIN),
      422,
      "validation_failed",
    );
    await expectProblem(
      await callJson("/admin/api/products", "POST", "null", ADMIN),
      422,
      "validation_failed",
    );
  });

  it("answers malformed JSON with 400 and an oversized body with 413", async () => {
    await expectProblem(
      await callJson("/admin/api/products", "POST", '{"slug": "x",', ADMIN),
      400,
      "malformed_json",
    );
    const huge = validProduct({ description: "x".repeat(70 * 1024) });
    await expectProblem(await callJson("/admin/api/products", "POST", huge, ADMIN), 413, "payload_too_large");
  });

  it("refuses a body that is not declared as JSON", async () => {
    const res = await call("/admin/api/products", {
      method: "POST",
      headers: { ...ADMIN, "content-type": "text/plain" },
      body: JSON.stringify(validProduct()),
    });
    await expectProblem(res, 415, "unsupported_media_type");
  });

  it("names unknown category ids and parents", async () => {
    const missing = `cat_${unique()}`;
    const body = await expectProblem(
      await callJson("/admin/api/products", "POST", validProduct({ category_ids: [missing] }), ADMIN),
      422,
      "validation_failed",
    );
    expect(paths(body)).toEqual(["body.category_ids.0"]);
    const parent = await expectProblem(
      await callJson(
        "/admin/api/categories",
        "POST",
        { slug: `c-${unique()}`, name: "C", parent_id: missing },
        ADMIN,
      ),
      422,
      "validation_failed",
    );
    expect(paths(parent)).toEqual(["body.parent_id"]);
  });
});

describe("admin catalog writes", () => {
  it("creates a product with variants, media and attributes, readable back by id", async () => {
    const category = await adminCategory(`cat-${unique()}`);
    const input = validProduct({
      category_ids: [category.id],
      media: [
        { url: "https://cdn.example.com/a.jpg", alt: "front", width: 800, height: 600 },
        { url: "/images/b.svg", alt: "back" },
      ],
      attributes: [
        { name: "material", value: "wool" },
        { name: "fit", value: "slim" },
      ],
    });
    const res = await callJson("/admin/api/products", "POST", input, ADMIN);
    expect(res.status).toBe(201);
    const created = (await res.json()) as AdminProduct;
    expect(created.id).toMatch(/^prod_/);
    expect(created.variants[0]?.id).toMatch(/^var_/);
    expect(created).toMatchObject({ revision: 1, category_ids: [category.id], status: "active" });
    expect(created.media.map((m) => m.alt)).toEqual(["front", "back"]);

    const read = (await (
      await call(`/admin/api/products/${created.id}`, { headers: ADMIN })
    ).json()) as AdminProduct;
    expect(read).toEqual(created);
    await expectProblem(
      await call(`/admin/api/products/prod_${unique()}`, { headers: ADMIN }),
      404,
      "product_not_found",
    );
  });

  it("replaces media and attributes on update and archives on DELETE, bumping the revision each time", async () => {
    const product = await adminProduct();
    const patched = await callJson(
      `/admin/api/products/${product.id}`,
      "PATCH",
      { title: "Renamed", media: [], attributes: [{ name: "fit", value: "loose" }] },
      ADMIN,
    );
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      title: "Renamed",
      media: [],
      attributes: [{ name: "fit", value: "loose" }],
      revision: 2,
    });
    const archived = await call(`/admin/api/products/${product.id}`, { method: "DELETE", headers: ADMIN });
    expect(await archived.json()).toMatchObject({ status: "archived", revision: 3 });
    const list = await call("/admin/api/products?status=archived&limit=100", { headers: ADMIN });
    expect(((await list.json()) as { items: { id: string }[] }).items.map((p) => p.id)).toContain(product.id);
  });

  it("upserts variant prices per currency, including compare-at, and 404s unknown variants", async () => {
    const product = await adminProduct({ usd: 1000, eur: 900 });
    const res = await callJson(
      `/admin/api/variants/${product.variants[0]?.id}`,
      "PATCH",
      {
        options: { size: "L" },
        prices: [
          { currency: "EUR", amount: 800, compare_at_amount: 950 },
          { currency: "GBP", amount: 700 },
        ],
      },
      ADMIN,
    );
    expect(res.status).toBe(200);
    const variant = (await res.json()) as AdminVariant;
    expect(variant.options).toEqual({ size: "L" });
    expect(variant.prices).toEqual([
      { currency: "EUR", amount: 800, compare_at_amount: 950 },
      { currency: "GBP", amount: 700, compare_at_amount: null },
      { currency: "USD", amount: 1000, compare_at_amount: null },
    ]);
    const inverted = await callJson(
      `/admin/api/variants/${product.variants[0]?.id}`,
      "PATCH",
      { prices: [{ currency: "USD", amount: 1000, compare_at_amount: 900 }] },
      ADMIN,
    );
    expect(paths(await expectProblem(inverted, 422, "validation_failed"))).toEqual([
      "body.prices.0.compare_at_amount",
    ]);
    await expectProblem(
      await callJson(`/admin/api/variants/var_${unique()}`, "PATCH", { title: "x" }, ADMIN),
      404,
      "variant_not_found",
    );
  });

  it("answers 409 for a taken slug, SKU or category slug", async () => {
    const product = await adminProduct();
    const slug = await callJson("/admin/api/products", "POST", validProduct({ slug: product.slug }), ADMIN);
    expect(await expectProblem(slug, 409, "product_slug_taken")).toMatchObject({ slug: product.slug });
    const sku = product.variants[0]?.sku ?? "";
    const variant = await callJson(`/admin/api/products/${product.id}/variants`, "POST", { sku }, ADMIN);
    expect(await expectProblem(variant, 409, "sku_taken")).toMatchObject({ skus: [sku] });
    const other = await adminProduct();
    await expectProblem(
      await callJson(`/admin/api/variants/${other.variants[0]?.id}`, "PATCH", { sku }, ADMIN),
      409,
      "sku_taken",
    );
    const category = await adminCategory(`cat-${unique()}`);
    await expectProblem(
      await callJson("/admin/api/categories", "POST", { slug: category.slug, name: "Dup" }, ADMIN),
      409,
      "category_slug_taken",
    );
  });

  it("writes nothing when a later part of a create conflicts", async () => {
    const existing = await adminProduct();
    const input = validProduct({
      variants: [
        { sku: `NEW-${unique()}`, prices: [{ currency: "USD", amount: 100 }] },
        { sku: existing.variants[0]?.sku, prices: [{ currency: "USD", amount: 100 }] },
      ],
    });
    await expectProblem(await callJson("/admin/api/products", "POST", input, ADMIN), 409, "sku_taken");
    // The same slug and first SKU are still free: the refused create left no trace.
    const retried = await callJson(
      "/admin/api/products",
      "POST",
      { ...input, variants: input.variants.slice(0, 1) },
      ADMIN,
    );
    expect(retried.status).toBe(201);
  });

  it("lets exactly one of two concurrent creates claim a SKU, rolling the other back whole", async () => {
    const sku = `RACE-${unique()}`;
    const a = validProduct({ variants: [{ sku, prices: [{ currency: "USD", amount: 1 }] }] });
    const b = validProduct({ variants: [{ sku, prices: [{ currency: "USD", amount: 1 }] }] });
    const results = await Promise.all(
      [a, b].map((body) => callJson("/admin/api/products", "POST", body, ADMIN)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409]);
    const loser = results[0]?.status === 409 ? a : b;
    const loserRes = results[0]?.status === 409 ? results[0] : results[1];
    await expectProblem(loserRes as Response, 409, "sku_taken");
    const reuse = await callJson("/admin/api/products", "POST", { ...loser, variants: [] }, ADMIN);
    expect(reuse.status).toBe(201);
  });

  it("commits each write's catalog.changed event through the outbox and sends it", async () => {
    const product = await adminProduct();
    await callJson(`/admin/api/products/${product.id}`, "PATCH", { title: "Second" }, ADMIN);
    const { results } = await env.DB.prepare(
      "SELECT type, payload, sent_at FROM outbox WHERE aggregate_id = ? ORDER BY created_at",
    )
      .bind(product.id)
      .all<{ type: string; payload: string; sent_at: number | null }>();
    expect(results.map((row) => row.type)).toEqual(["catalog.changed", "catalog.changed"]);
    expect(results.every((row) => row.sent_at !== null)).toBe(true);
    const events = results.map((row) => JSON.parse(row.payload) as { change: string; revision: number });
    expect(events.map((e) => [e.change, e.revision])).toEqual([
      ["created", 1],
      ["updated", 2],
    ]);
  });
});
