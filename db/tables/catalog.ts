import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Epoch milliseconds: integers sort and compare exactly, unlike ISO strings with offsets. */
const timestamps = {
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
};

export const PRODUCT_STATUSES = ["draft", "active", "archived"] as const;

export const products = sqliteTable(
  "products",
  {
    id: text("id").primaryKey(),
    slug: text("slug").notNull(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    brand: text("brand").notNull().default(""),
    status: text("status", { enum: PRODUCT_STATUSES }).notNull().default("draft"),
    featured: integer("featured", { mode: "boolean" }).notNull().default(false),
    /** Sales-driven score used to boost search and "popular" sorts. */
    popularity: integer("popularity").notNull().default(0),
    /** Tax class for rate lookup (e.g. `reduced`); null pays the standard rate. */
    taxClass: text("tax_class"),
    /**
     * Monotonic per-product revision, bumped by every catalog write that touches the
     * product (its variants, prices, media, categories included). KV projections carry it so
     * a late or replayed event can never overwrite a newer document.
     */
    revision: integer("revision").notNull().default(1),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("products_slug_unique").on(t.slug),
    index("products_status_created_idx").on(t.status, t.createdAt, t.id),
    index("products_status_brand_idx").on(t.status, t.brand),
  ],
);

export const variants = sqliteTable(
  "variants",
  {
    id: text("id").primaryKey(),
    productId: text("product_id")
      .notNull()
      .references(() => products.id),
    sku: text("sku").notNull(),
    title: text("title").notNull().default(""),
    /** Option values such as `{ "size": "M", "colour": "Blue" }`, JSON. */
    options: text("options", { mode: "json" }).$type<Record<string, string>>().notNull().default(sql`'{}'`),
    weightGrams: integer("weight_grams"),
    barcode: text("barcode"),
    position: integer("position").notNull().default(0),
    status: text("status", { enum: ["active", "archived"] })
      .notNull()
      .default("active"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("variants_sku_unique").on(t.sku),
    index("variants_product_idx").on(t.productId, t.position),
  ],
);

export const prices = sqliteTable(
  "prices",
  {
    variantId: text("variant_id")
      .notNull()
      .references(() => variants.id),
    currency: text("currency").notNull(),
    /** Integer minor units. */
    amount: integer("amount").notNull(),
    compareAtAmount: integer("compare_at_amount"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.variantId, t.currency] }),
    index("prices_currency_amount_idx").on(t.currency, t.amount),
  ],
);

export const categories = sqliteTable(
  "categories",
  {
    id: text("id").primaryKey(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    parentId: text("parent_id"),
    position: integer("position").notNull().default(0),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("categories_slug_unique").on(t.slug),
    index("categories_parent_idx").on(t.parentId, t.position),
  ],
);

export const productCategories = sqliteTable(
  "product_categories",
  {
    productId: text("product_id")
      .notNull()
      .references(() => products.id),
    categoryId: text("category_id")
      .notNull()
      .references(() => categories.id),
    position: integer("position").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.productId, t.categoryId] }),
    index("product_categories_category_idx").on(t.categoryId, t.productId),
  ],
);

export const media = sqliteTable(
  "media",
  {
    id: text("id").primaryKey(),
    productId: text("product_id")
      .notNull()
      .references(() => products.id),
    url: text("url").notNull(),
    alt: text("alt").notNull().default(""),
    width: integer("width"),
    height: integer("height"),
    position: integer("position").notNull().default(0),
  },
  (t) => [index("media_product_idx").on(t.productId, t.position)],
);

/** Free-form attributes (material, fit …) that search uses as facets. */
export const productAttributes = sqliteTable(
  "product_attributes",
  {
    productId: text("product_id")
      .notNull()
      .references(() => products.id),
    name: text("name").notNull(),
    value: text("value").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.productId, t.name, t.value] }),
    index("product_attributes_facet_idx").on(t.name, t.value),
  ],
);
