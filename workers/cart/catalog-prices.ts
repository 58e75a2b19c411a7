import { and, eq, inArray, sql } from "drizzle-orm";
import { database } from "../../db/client";
import { prices, products, variants } from "../../db/schema";
import type { Currency } from "../lib/money";

/** What the catalog says about a SKU right now, in one currency. */
export interface CatalogItem {
  sku: string;
  variantId: string;
  productId: string;
  title: string;
  variantTitle: string;
  /** Current price in the cart currency; null when the variant has none in it. */
  unitPrice: number | null;
  /** Active product, active variant, priced in the currency. */
  purchasable: boolean;
  /** The product's tax class (null: standard rate). */
  taxClass: string | null;
  /** The variant's shipping weight; null when unknown (counts as 0 g). */
  weightGrams: number | null;
}

/**
 * Authoritative prices straight from D1 (never the client, never a KV projection that may
 * lag a price change). Unknown SKUs are absent from the map.
 */
export async function loadCatalogItems(
  env: Env,
  skus: readonly string[],
  currency: Currency,
): Promise<Map<string, CatalogItem>> {
  if (skus.length === 0) return new Map();
  return catalogItemsFrom(await catalogItemsQuery(env, skus, currency));
}

/** The read behind `loadCatalogItems` (`skus` not empty), for a caller batching it with others. */
export function catalogItemsQuery(env: Env, skus: readonly string[], currency: Currency) {
  return database(env.DB)
    .select({
      sku: variants.sku,
      variantId: variants.id,
      // Named apart from the variant's columns: in a D1 batch rows come back as objects, where
      // two columns both called `id` (or `title`, `status`) would collapse into one.
      productId: sql<string>`${products.id}`.as("product_id"),
      title: sql<string>`${products.title}`.as("product_title"),
      variantTitle: variants.title,
      variantStatus: variants.status,
      productStatus: sql<string>`${products.status}`.as("product_status"),
      amount: prices.amount,
      taxClass: products.taxClass,
      weightGrams: variants.weightGrams,
    })
    .from(variants)
    .innerJoin(products, eq(products.id, variants.productId))
    .leftJoin(prices, and(eq(prices.variantId, variants.id), eq(prices.currency, currency)))
    .where(inArray(variants.sku, [...new Set(skus)]));
}

/** `catalogItemsQuery`'s rows as items by SKU. */
export function catalogItemsFrom(
  rows: Awaited<ReturnType<typeof catalogItemsQuery>>,
): Map<string, CatalogItem> {
  return new Map(
    rows.map((row) => [
      row.sku,
      {
        sku: row.sku,
        variantId: row.variantId,
        productId: row.productId,
        title: row.title,
        variantTitle: row.variantTitle,
        unitPrice: row.amount,
        purchasable: row.productStatus === "active" && row.variantStatus === "active" && row.amount !== null,
        taxClass: row.taxClass,
        weightGrams: row.weightGrams,
      },
    ]),
  );
}
