import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { CatalogChangedEvent } from "../workers/catalog/events";
import { productKey } from "../workers/catalog/kv-keys";
import type { ProductDocument } from "../workers/catalog/projections";
import type { AdminCategory, AdminProduct } from "../workers/catalog/schemas";
import worker from "../workers/edge/index";
import { ADMIN, callJson } from "./helpers";

/** A random lowercase suffix so every test builds its own catalog and never shares state. */
export const unique = () => Math.random().toString(36).slice(2, 10);

export async function adminCategory(slug: string, parentId: string | null = null): Promise<AdminCategory> {
  const res = await callJson(
    "/admin/api/categories",
    "POST",
    { slug, name: slug, parent_id: parentId },
    ADMIN,
  );
  if (res.status !== 201) throw new Error(`category create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as AdminCategory;
}

export interface ProductSpec {
  slug?: string;
  title?: string;
  brand?: string;
  status?: "draft" | "active" | "archived";
  popularity?: number;
  category_ids?: string[];
  usd?: number;
  eur?: number | null;
  compare_at_usd?: number | null;
}

/** Creates an active product with one variant priced in USD (and EUR unless `eur: null`) through the admin API. */
export async function adminProduct(spec: ProductSpec = {}): Promise<AdminProduct> {
  const id = unique();
  const usd = spec.usd ?? 2500;
  const prices: { currency: string; amount: number; compare_at_amount?: number | null }[] = [
    { currency: "USD", amount: usd, compare_at_amount: spec.compare_at_usd ?? null },
  ];
  if (spec.eur !== null) prices.push({ currency: "EUR", amount: spec.eur ?? usd - 100 });
  const res = await callJson(
    "/admin/api/products",
    "POST",
    {
      slug: spec.slug ?? `product-${id}`,
      title: spec.title ?? `Product ${id}`,
      brand: spec.brand ?? "Acme",
      status: spec.status ?? "active",
      popularity: spec.popularity ?? 0,
      category_ids: spec.category_ids ?? [],
      media: [{ url: `/images/${id}.svg`, alt: `Photo ${id}` }],
      attributes: [{ name: "material", value: "linen" }],
      variants: [{ sku: `SKU-${id}`, title: "Default", options: { size: "M" }, prices }],
    },
    ADMIN,
  );
  if (res.status !== 201) throw new Error(`product create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as AdminProduct;
}

/** The `catalog.changed` event an admin write publishes for `product`, overridable for replays. */
export function productEvent(
  product: Pick<AdminProduct, "id" | "revision" | "slug">,
  overrides: Partial<CatalogChangedEvent> = {},
): CatalogChangedEvent {
  return {
    id: `evt_${unique()}`,
    type: "catalog.changed",
    version: 1,
    occurred_at: new Date().toISOString(),
    entity: "product",
    entity_id: product.id,
    revision: product.revision,
    change: "updated",
    slugs: [product.slug],
    ...overrides,
  };
}

/** Delivers `bodies` to the worker's real queue handler as one batch and returns the ack/retry outcome. */
export async function deliverCatalogEvents(bodies: unknown[]) {
  const batch = createMessageBatch(
    "popcart-catalog-events",
    bodies.map((body, index) => ({
      id: `msg-${unique()}-${index}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return { batch, result: await getQueueResult(batch, ctx) };
}

export function productDocument(slug: string): Promise<ProductDocument | null> {
  return env.CATALOG_KV.get<ProductDocument>(productKey(slug), "json");
}
