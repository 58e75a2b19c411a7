import { env } from "cloudflare:workers";
import type { CatalogChangedEvent } from "../workers/catalog/events";
import { handleSearchIndexEvent } from "../workers/search/indexer";

/** A lower-case random word, so each test's fixture is findable on its own. */
export const randomTag = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => "abcdefghjkmnpqrstvwxyz"[b % 22]).join("");

export interface FixtureProduct {
  title: string;
  brand?: string;
  description?: string;
  categories?: string[];
  attributes?: Record<string, string>;
  variants?: { sku: string; options?: Record<string, string>; prices: Record<string, number> }[];
  popularity?: number;
  createdAt?: number;
  status?: "draft" | "active" | "archived";
}

let clock = Date.now();

/** Inserts categories (`slug` → parent slug or null) straight into the catalog tables. */
export async function insertCategories(tree: Record<string, { name: string; parent: string | null }>) {
  const now = Date.now();
  for (const [slug, { name, parent }] of Object.entries(tree)) {
    await env.DB.prepare(
      `INSERT INTO categories (id, slug, name, parent_id, created_at, updated_at)
       VALUES (?1, ?1, ?2, ?3, ?4, ?4)`,
    )
      .bind(slug, name, parent, now)
      .run();
  }
}

/** Inserts a product with its variants, prices, categories and attributes; returns its id. */
export async function insertProduct(product: FixtureProduct): Promise<string> {
  const id = `prod_${randomTag()}${randomTag()}`;
  clock += 1000;
  const created = product.createdAt ?? clock;
  const statements = [
    env.DB.prepare(
      `INSERT INTO products (id, slug, title, description, brand, status, popularity, revision, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8)`,
    ).bind(
      id,
      `${id.slice(5)}-${product.title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
      product.title,
      product.description ?? "",
      product.brand ?? "",
      product.status ?? "active",
      product.popularity ?? 0,
      created,
    ),
  ];
  for (const [position, category] of (product.categories ?? []).entries()) {
    statements.push(
      env.DB.prepare(
        "INSERT INTO product_categories (product_id, category_id, position) VALUES (?1, ?2, ?3)",
      ).bind(id, category, position),
    );
  }
  for (const [name, value] of Object.entries(product.attributes ?? {})) {
    statements.push(
      env.DB.prepare("INSERT INTO product_attributes (product_id, name, value) VALUES (?1, ?2, ?3)").bind(
        id,
        name,
        value,
      ),
    );
  }
  for (const [position, variant] of (product.variants ?? []).entries()) {
    const variantId = `var_${randomTag()}${randomTag()}`;
    statements.push(
      env.DB.prepare(
        `INSERT INTO variants (id, product_id, sku, options, position, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)`,
      ).bind(variantId, id, variant.sku, JSON.stringify(variant.options ?? {}), position, created),
    );
    for (const [currency, amount] of Object.entries(variant.prices)) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO prices (variant_id, currency, amount, updated_at) VALUES (?1, ?2, ?3, ?4)",
        ).bind(variantId, currency, amount, created),
      );
    }
  }
  await env.DB.batch(statements);
  return id;
}

/** The event the catalog publishes after a write, for the product's current revision. */
export async function productEvent(
  productId: string,
  change: CatalogChangedEvent["change"] = "updated",
): Promise<CatalogChangedEvent> {
  const row = await env.DB.prepare("SELECT revision FROM products WHERE id = ?1")
    .bind(productId)
    .first<{ revision: number }>();
  return {
    id: `evt_${randomTag()}`,
    type: "catalog.changed",
    version: 1,
    occurred_at: new Date().toISOString(),
    entity: "product",
    entity_id: productId,
    revision: row?.revision ?? 0,
    change,
    slugs: [],
  };
}

/** Publishes-and-consumes: runs the search consumer for each product, as the queue would. */
export async function indexProducts(...productIds: string[]) {
  for (const id of productIds) await handleSearchIndexEvent(env, await productEvent(id, "created"));
}

/** Applies a catalog write the way the catalog domain does: change, bump revision. */
export async function updateProduct(
  productId: string,
  set: { title?: string; status?: string; popularity?: number },
) {
  const fields = Object.entries(set);
  await env.DB.prepare(
    `UPDATE products SET ${fields.map(([name], i) => `${name} = ?${i + 2}`).join(", ")}, revision = revision + 1,
     updated_at = ?${fields.length + 2} WHERE id = ?1`,
  )
    .bind(productId, ...fields.map(([, value]) => value), Date.now())
    .run();
}
