import type { CategoryNode, ProductListQuery } from "../catalog/schemas";
import { ProductListQuerySchema } from "../catalog/schemas";
import { getCategoryTree, getProduct, listProducts } from "../catalog/service";
import { CURRENCIES, type Currency } from "../lib/money";

/** The category tree through the same service that backs GET /api/categories. */
export async function categoryTree(env: Env): Promise<CategoryNode[]> {
  return (await getCategoryTree(env)).doc.categories;
}

/** Depth-first search of the tree for `slug`. */
export function findCategory(nodes: CategoryNode[], slug: string): CategoryNode | null {
  for (const node of nodes) {
    if (node.slug === slug) return node;
    const inChild = findCategory(node.children, slug);
    if (inChild) return inChild;
  }
  return null;
}

/** A product page's product through the service behind GET /api/products/{slug}. */
export const productBySlug = async (env: Env, slug: string, currency: Currency) =>
  (await getProduct(env, slug, currency))?.product ?? null;

/**
 * One listing page through the service behind GET /api/products. Input is validated by the
 * API's own query schema so the page and the API refuse exactly the same things.
 */
export async function listing(env: Env, input: Record<string, string | number | undefined>) {
  const query: ProductListQuery = ProductListQuerySchema.parse(
    Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== "")),
  );
  return (await listProducts(env, query)).list;
}

/**
 * A shopper-typed price ("19.99", "20", "1,500") as integer minor units, without floats.
 * Returns undefined for blank input and null for input that is not a price.
 */
export function parsePrice(text: string, currency: Currency): number | null | undefined {
  const trimmed = text.trim().replaceAll(",", "");
  if (!trimmed) return undefined;
  const exponent = CURRENCIES[currency].exponent;
  const match = /^(\d{1,10})(?:\.(\d+))?$/.exec(trimmed);
  if (!match) return null;
  const [, whole = "0", fraction = ""] = match;
  if (fraction.length > exponent) return null;
  return Number(whole) * 10 ** exponent + Number(fraction.padEnd(exponent, "0") || "0");
}
