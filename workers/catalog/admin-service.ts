import { z } from "@hono/zod-openapi";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type Database, database } from "../../db/client";
import {
  categories,
  media,
  prices,
  productAttributes,
  productCategories,
  products,
  variants,
} from "../../db/schema";
import { newId } from "../lib/ids";
import { olderThan } from "../lib/keyset";
import { ApiError, type FieldError, problems } from "../lib/problem";
import { decodeCursor, encodeCursor } from "../lib/schemas";
import { catalogChanged, publishCatalogEvents } from "./publisher";
import { type CategoryRow, loadCategories, loadProduct, type ProductRecord } from "./queries";
import type {
  AdminCategory,
  AdminProduct,
  AdminProductSummary,
  CategoryCreate,
  ProductCreate,
  ProductUpdate,
  VariantCreate,
  VariantUpdate,
} from "./schemas";

type Statement = BatchItem<"sqlite">;

const iso = (ms: number) => new Date(ms).toISOString();

function toAdminProduct(record: ProductRecord): AdminProduct {
  return {
    id: record.id,
    slug: record.slug,
    title: record.title,
    description: record.description,
    brand: record.brand,
    status: record.status,
    featured: record.featured,
    popularity: record.popularity,
    revision: record.revision,
    tax_class: record.taxClass,
    category_ids: record.categories.map((c) => c.id),
    media: record.media,
    attributes: record.attributes,
    variants: record.variants.map((v) => ({
      id: v.id,
      product_id: v.productId,
      sku: v.sku,
      title: v.title,
      options: v.options,
      weight_grams: v.weightGrams,
      barcode: v.barcode,
      position: v.position,
      status: v.status,
      prices: v.prices.map((p) => ({
        currency: p.currency as AdminProduct["variants"][number]["prices"][number]["currency"],
        amount: p.amount,
        compare_at_amount: p.compareAtAmount,
      })),
    })),
    created_at: iso(record.createdAt),
    updated_at: iso(record.updatedAt),
  };
}

function toAdminCategory(row: CategoryRow): AdminCategory {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    parent_id: row.parentId,
    position: row.position,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

const productNotFound = (id: string) =>
  problems.notFound("Product", "product_not_found", `No product has the id '${id}'.`);
const variantNotFound = (id: string) =>
  problems.notFound("Variant", "variant_not_found", `No variant has the id '${id}'.`);
const slugTaken = (slug: string) =>
  problems.conflict("product_slug_taken", `Another product already uses the slug '${slug}'.`, { slug });
const skuTaken = (skus: string[]) =>
  problems.conflict("sku_taken", `SKU already in use: ${skus.join(", ")}.`, { skus });

/**
 * Runs the statements as one D1 batch (a single transaction: all or nothing). A UNIQUE
 * violation that slipped past the pre-checks (a concurrent writer) becomes the same 409.
 */
async function commit(db: Database, statements: Statement[], conflicts: { slug?: string; skus?: string[] }) {
  try {
    return await db.batch(statements as [Statement, ...Statement[]]);
  } catch (error) {
    const message = errorChain(error);
    if (message.includes("UNIQUE constraint failed: products.slug")) throw slugTaken(conflicts.slug ?? "");
    if (message.includes("UNIQUE constraint failed: variants.sku")) throw skuTaken(conflicts.skus ?? []);
    if (message.includes("UNIQUE constraint failed: categories.slug")) {
      throw problems.conflict(
        "category_slug_taken",
        `Another category already uses the slug '${conflicts.slug}'.`,
      );
    }
    throw error;
  }
}

function errorChain(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    parts.push(current.message);
    current = current.cause;
  }
  return parts.join(" | ");
}

async function assertSlugFree(db: Database, slug: string, exceptId?: string) {
  const rows = await db.select({ id: products.id }).from(products).where(eq(products.slug, slug)).limit(1);
  if (rows[0] && rows[0].id !== exceptId) throw slugTaken(slug);
}

async function assertSkusFree(db: Database, skus: string[], exceptVariantId?: string) {
  if (skus.length === 0) return;
  const rows = await db
    .select({ id: variants.id, sku: variants.sku })
    .from(variants)
    .where(inArray(variants.sku, skus));
  const taken = rows.filter((row) => row.id !== exceptVariantId).map((row) => row.sku);
  if (taken.length > 0) throw skuTaken(taken);
}

async function assertCategoriesExist(db: Database, ids: string[], field: string) {
  if (ids.length === 0) return;
  const rows = await db.select({ id: categories.id }).from(categories).where(inArray(categories.id, ids));
  const known = new Set(rows.map((row) => row.id));
  const errors: FieldError[] = [];
  ids.forEach((id, index) => {
    if (!known.has(id)) errors.push({ path: `${field}.${index}`, message: `unknown category '${id}'` });
  });
  if (errors.length > 0) throw problems.validation(errors);
}

function variantStatements(
  db: Database,
  productId: string,
  input: VariantCreate,
  position: number,
  now: number,
) {
  const id = newId("var");
  const statements: Statement[] = [
    db.insert(variants).values({
      id,
      productId,
      sku: input.sku,
      title: input.title,
      options: input.options,
      weightGrams: input.weight_grams ?? null,
      barcode: input.barcode ?? null,
      position: input.position ?? position,
      status: "active",
      createdAt: now,
      updatedAt: now,
    }),
    ...priceStatements(db, id, input.prices, now),
  ];
  return { id, statements };
}

// One statement per row: D1 binds at most 100 parameters per statement.
function priceStatements(db: Database, variantId: string, list: VariantCreate["prices"], now: number) {
  return list.map((price) =>
    db
      .insert(prices)
      .values({
        variantId,
        currency: price.currency,
        amount: price.amount,
        compareAtAmount: price.compare_at_amount ?? null,
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: [prices.variantId, prices.currency],
        set: { amount: price.amount, compareAtAmount: price.compare_at_amount ?? null, updatedAt: now },
      }),
  );
}

/** Statements that set the listed link collections; `fresh` (a new product) skips the deletes. */
function replaceLinksStatements(
  db: Database,
  productId: string,
  input: Pick<ProductUpdate, "category_ids" | "media" | "attributes">,
  fresh = false,
): Statement[] {
  const out: Statement[] = [];
  if (input.category_ids) {
    if (!fresh) out.push(db.delete(productCategories).where(eq(productCategories.productId, productId)));
    input.category_ids.forEach((categoryId, position) => {
      out.push(db.insert(productCategories).values({ productId, categoryId, position }));
    });
  }
  if (input.media) {
    if (!fresh) out.push(db.delete(media).where(eq(media.productId, productId)));
    input.media.forEach((item, position) => {
      out.push(
        db.insert(media).values({
          id: newId("med"),
          productId,
          url: item.url,
          alt: item.alt,
          width: item.width ?? null,
          height: item.height ?? null,
          position,
        }),
      );
    });
  }
  if (input.attributes) {
    if (!fresh) out.push(db.delete(productAttributes).where(eq(productAttributes.productId, productId)));
    for (const attribute of input.attributes) {
      out.push(
        db.insert(productAttributes).values({ productId, name: attribute.name, value: attribute.value }),
      );
    }
  }
  return out;
}

/** Bumps the product's revision (and sets `extra` fields) inside a write batch. */
const bumpRevision = (
  db: Database,
  productId: string,
  now: number,
  extra: Partial<typeof products.$inferInsert> = {},
) =>
  db
    .update(products)
    .set({ ...extra, revision: sql`${products.revision} + 1`, updatedAt: now })
    .where(eq(products.id, productId));

/** The event of a write that touches a product's variants or prices (its slug stays). */
const productUpdated = (db: Database, product: { id: string; slug: string; revision: number }) =>
  catalogChanged(db, {
    entity: "product",
    entity_id: product.id,
    revision: product.revision + 1,
    change: "updated",
    slugs: [product.slug],
  });

async function reload(db: Database, id: string): Promise<ProductRecord> {
  const record = await loadProduct(db, { id });
  if (!record) throw new Error(`product ${id} vanished after its write committed`);
  return record;
}

/** Creates a product with its variants, prices, categories, media and attributes atomically. */
export async function createProduct(env: Env, input: ProductCreate): Promise<AdminProduct> {
  const db = database(env.DB);
  const skus = input.variants.map((v) => v.sku);
  await Promise.all([
    assertSlugFree(db, input.slug),
    assertSkusFree(db, skus),
    assertCategoriesExist(db, input.category_ids, "body.category_ids"),
  ]);
  const id = newId("prod");
  const now = Date.now();
  const statements: Statement[] = [
    db.insert(products).values({
      id,
      slug: input.slug,
      title: input.title,
      description: input.description,
      brand: input.brand,
      status: input.status,
      featured: input.featured,
      popularity: input.popularity,
      taxClass: input.tax_class,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    }),
    ...replaceLinksStatements(db, id, input, true),
  ];
  input.variants.forEach((variant, position) => {
    statements.push(...variantStatements(db, id, variant, position, now).statements);
  });
  const changed = catalogChanged(db, {
    entity: "product",
    entity_id: id,
    revision: 1,
    change: "created",
    slugs: [input.slug],
  });
  await commit(db, [...statements, changed.statement], { slug: input.slug, skus });
  await publishCatalogEvents(env, [changed.event]);
  return toAdminProduct(await reload(db, id));
}

/** Updates product fields; category_ids, media and attributes, when given, replace the current lists. */
export async function updateProduct(env: Env, id: string, input: ProductUpdate): Promise<AdminProduct> {
  const db = database(env.DB);
  const before = await loadProduct(db, { id });
  if (!before) throw productNotFound(id);
  await Promise.all([
    input.slug !== undefined ? assertSlugFree(db, input.slug, id) : undefined,
    assertCategoriesExist(db, input.category_ids ?? [], "body.category_ids"),
  ]);
  const now = Date.now();
  const fields: Partial<typeof products.$inferInsert> = {};
  if (input.slug !== undefined) fields.slug = input.slug;
  if (input.title !== undefined) fields.title = input.title;
  if (input.description !== undefined) fields.description = input.description;
  if (input.brand !== undefined) fields.brand = input.brand;
  if (input.status !== undefined) fields.status = input.status;
  if (input.featured !== undefined) fields.featured = input.featured;
  if (input.popularity !== undefined) fields.popularity = input.popularity;
  if (input.tax_class !== undefined) fields.taxClass = input.tax_class;
  const changed = catalogChanged(db, {
    entity: "product",
    entity_id: id,
    revision: before.revision + 1,
    change: input.status === "archived" && before.status !== "archived" ? "archived" : "updated",
    slugs: [...new Set([input.slug ?? before.slug, before.slug])],
  });
  await commit(
    db,
    [...replaceLinksStatements(db, id, input), bumpRevision(db, id, now, fields), changed.statement],
    { slug: input.slug ?? before.slug },
  );
  await publishCatalogEvents(env, [changed.event]);
  return toAdminProduct(await reload(db, id));
}

/** Archives a product (DELETE): it disappears from the storefront but keeps its history. */
export function archiveProduct(env: Env, id: string): Promise<AdminProduct> {
  return updateProduct(env, id, { status: "archived" });
}

export async function getAdminProduct(env: Env, id: string): Promise<AdminProduct> {
  const record = await loadProduct(database(env.DB), { id });
  if (!record) throw productNotFound(id);
  return toAdminProduct(record);
}

const AdminCursor = z.object({ c: z.number().int(), i: z.string().max(64) });

/**
 * Every product, newest first, any status; keyset pagination on (created_at, id). `q` matches a
 * title or slug fragment (case-insensitive) or a variant's exact SKU: a staff look-up, scanning
 * newest first until a page is full, not shopper search (that is `/api/search`).
 */
export async function listAdminProducts(
  env: Env,
  query: {
    status?: "draft" | "active" | "archived" | undefined;
    q?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  },
): Promise<{ items: AdminProductSummary[]; next_cursor: string | null }> {
  const db = database(env.DB);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, AdminCursor);
  if (after === null) {
    throw new ApiError(422, "invalid_cursor", "Invalid cursor", {
      errors: [{ path: "query.cursor", message: "malformed cursor" }],
    });
  }
  const rows = await db
    .select()
    .from(products)
    .where(
      and(
        query.status ? eq(products.status, query.status) : undefined,
        query.q ? matchesText(query.q) : undefined,
        olderThan(products.createdAt, products.id, after && { time: after.c, id: after.i }),
      ),
    )
    .orderBy(desc(products.createdAt), desc(products.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      id: row.id,
      slug: row.slug,
      title: row.title,
      brand: row.brand,
      status: row.status,
      featured: row.featured,
      popularity: row.popularity,
      revision: row.revision,
      created_at: iso(row.createdAt),
      updated_at: iso(row.updatedAt),
    })),
    next_cursor: rows.length > query.limit && last ? encodeCursor({ c: last.createdAt, i: last.id }) : null,
  };
}

function matchesText(q: string) {
  const needle = q.toLowerCase();
  return sql`(instr(lower(${products.title}), ${needle}) > 0 or instr(${products.slug}, ${needle}) > 0 or ${products.id} in (select ${variants.productId} from ${variants} where ${variants.sku} = ${q}))`;
}

/** Adds a variant (with prices) to a product and bumps the product's revision, atomically. */
export async function addVariant(
  env: Env,
  productId: string,
  input: VariantCreate,
): Promise<AdminProduct["variants"][number]> {
  const db = database(env.DB);
  const before = await loadProduct(db, { id: productId });
  if (!before) throw productNotFound(productId);
  await assertSkusFree(db, [input.sku]);
  const now = Date.now();
  const { id, statements } = variantStatements(db, productId, input, before.variants.length, now);
  const changed = productUpdated(db, before);
  await commit(db, [...statements, bumpRevision(db, productId, now), changed.statement], {
    skus: [input.sku],
  });
  await publishCatalogEvents(env, [changed.event]);
  const record = await reload(db, productId);
  const variant = toAdminProduct(record).variants.find((v) => v.id === id);
  if (!variant) throw new Error(`variant ${id} vanished after its write committed`);
  return variant;
}

/** Updates a variant and upserts its prices per currency; bumps the product's revision. */
export async function updateVariant(
  env: Env,
  variantId: string,
  input: VariantUpdate,
): Promise<AdminProduct["variants"][number]> {
  const db = database(env.DB);
  const [current] = await db.select().from(variants).where(eq(variants.id, variantId)).limit(1);
  if (!current) throw variantNotFound(variantId);
  const [product] = await db
    .select({ id: products.id, slug: products.slug, revision: products.revision })
    .from(products)
    .where(eq(products.id, current.productId));
  if (!product) throw variantNotFound(variantId);
  if (input.sku !== undefined) await assertSkusFree(db, [input.sku], variantId);
  const now = Date.now();
  const changed = productUpdated(db, product);
  const fields: Partial<typeof variants.$inferInsert> = { updatedAt: now };
  if (input.sku !== undefined) fields.sku = input.sku;
  if (input.title !== undefined) fields.title = input.title;
  if (input.options !== undefined) fields.options = input.options;
  if (input.weight_grams !== undefined) fields.weightGrams = input.weight_grams;
  if (input.barcode !== undefined) fields.barcode = input.barcode;
  if (input.position !== undefined) fields.position = input.position;
  if (input.status !== undefined) fields.status = input.status;
  await commit(
    db,
    [
      db.update(variants).set(fields).where(eq(variants.id, variantId)),
      ...priceStatements(db, variantId, input.prices ?? [], now),
      bumpRevision(db, current.productId, now),
      changed.statement,
    ],
    { skus: input.sku ? [input.sku] : [] },
  );
  await publishCatalogEvents(env, [changed.event]);
  const record = await reload(db, current.productId);
  const variant = toAdminProduct(record).variants.find((v) => v.id === variantId);
  if (!variant) throw new Error(`variant ${variantId} vanished after its write committed`);
  return variant;
}

export async function listAdminCategories(env: Env): Promise<AdminCategory[]> {
  return (await loadCategories(database(env.DB))).map(toAdminCategory);
}

/** Creates a category under an existing parent (or at the root). */
export async function createCategory(env: Env, input: CategoryCreate): Promise<AdminCategory> {
  const db = database(env.DB);
  if (input.parent_id !== null) {
    const parent = await db
      .select({ id: categories.id })
      .from(categories)
      .where(eq(categories.id, input.parent_id));
    if (parent.length === 0) {
      throw problems.validation([
        { path: "body.parent_id", message: `unknown category '${input.parent_id}'` },
      ]);
    }
  }
  const taken = await db
    .select({ id: categories.id })
    .from(categories)
    .where(eq(categories.slug, input.slug));
  if (taken.length > 0) {
    throw problems.conflict(
      "category_slug_taken",
      `Another category already uses the slug '${input.slug}'.`,
      {
        slug: input.slug,
      },
    );
  }
  const now = Date.now();
  const row: CategoryRow = {
    id: newId("cat"),
    slug: input.slug,
    name: input.name,
    description: input.description,
    parentId: input.parent_id,
    position: input.position,
    createdAt: now,
    updatedAt: now,
  };
  const changed = catalogChanged(db, {
    entity: "category",
    entity_id: row.id,
    revision: now,
    change: "created",
    slugs: [row.slug],
  });
  await commit(db, [db.insert(categories).values(row), changed.statement], { slug: input.slug });
  await publishCatalogEvents(env, [changed.event]);
  return toAdminCategory(row);
}
