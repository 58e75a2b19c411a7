import { env } from "cloudflare:workers";
import { database } from "../db/client";
import { prices, products, variants } from "../db/schema";
import { ADMIN, callJson, expectJson } from "./helpers";

const suffix = () => crypto.randomUUID().slice(0, 8).toUpperCase();

/** Inserts an active product with one variant priced in the given currencies; returns its SKU. */
export async function seedSku(
  priceList: Partial<Record<"USD" | "EUR" | "GBP" | "JPY", number>>,
  options: {
    status?: "active" | "draft" | "archived";
    sku?: string;
    weightGrams?: number;
    taxClass?: string;
  } = {},
): Promise<{ sku: string; variantId: string; productId: string }> {
  const id = suffix();
  const now = Date.now();
  const productId = `prod_test${id.toLowerCase()}`;
  const variantId = `var_test${id.toLowerCase()}`;
  const sku = options.sku ?? `SKU-${id}`;
  const db = database(env.DB);
  await db.insert(products).values({
    id: productId,
    slug: `product-${id.toLowerCase()}`,
    title: `Product ${id}`,
    status: options.status ?? "active",
    taxClass: options.taxClass ?? null,
    createdAt: now,
    updatedAt: now,
  });
  await db.insert(variants).values({
    id: variantId,
    productId,
    sku,
    title: "Default",
    weightGrams: options.weightGrams ?? null,
    createdAt: now,
    updatedAt: now,
  });
  const rows = Object.entries(priceList).map(([currency, amount]) => ({
    variantId,
    currency,
    amount: amount ?? 0,
    updatedAt: now,
  }));
  if (rows.length > 0) await db.insert(prices).values(rows);
  return { sku, variantId, productId };
}

/** Changes a variant's price in D1, as the catalog admin would. */
export async function setPrice(variantId: string, currency: string, amount: number): Promise<void> {
  await env.DB.prepare("UPDATE prices SET amount = ?1 WHERE variant_id = ?2 AND currency = ?3")
    .bind(amount, variantId, currency)
    .run();
}

export interface TestCart {
  id: string;
  token: string;
  headers: Record<string, string>;
}

/** A cart as the API answers it: the fields the suites read. */
export interface CartBody {
  id: string;
  status: string;
  email: string | null;
  lines: {
    id: string;
    sku: string;
    quantity: number;
    unit_price: { amount: number };
    price_changed: { previous: { amount: number }; current: { amount: number } } | null;
    available: boolean;
    reservation: { id: string } | null;
  }[];
  promotions: { code: string; applied: boolean; reason: string | null; discount: { amount: number } }[];
  totals: Record<
    "subtotal" | "discount" | "shipping" | "tax" | "total",
    { amount: number; currency: string }
  > & {
    tax_inclusive: boolean;
  };
  shipping_methods: { id: string }[];
}

/** Asserts a 200 cart response and returns the cart. */
export const cartOf = (res: Response) => expectJson<CartBody>(res);

/**
 * Adds `quantity` of `sku` to the cart through the API (the raw response); `headers` go with
 * the cart token (e.g. a waiting-room admission).
 */
export const addLine = (
  cart: TestCart,
  sku: string,
  quantity: number,
  headers: Record<string, string> = {},
) => callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity }, { ...cart.headers, ...headers });

/** Creates a cart through the public API. */
export async function newCart(currency = "USD", email?: string): Promise<TestCart> {
  const res = await callJson("/api/carts", "POST", email ? { currency, email } : { currency });
  if (res.status !== 201) throw new Error(`cart creation failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { id: string; token: string };
  return { id: body.id, token: body.token, headers: { "x-cart-token": body.token } };
}

/** Creates a promotion code through the admin API; returns the code. */
export async function seedPromotion(body: Record<string, unknown>): Promise<{ id: string; code: string }> {
  const code = (body.code as string | undefined) ?? `P${suffix()}`;
  const res = await callJson("/admin/api/promotions", "POST", { ...body, code }, ADMIN);
  if (res.status !== 201) throw new Error(`promotion creation failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; code: string };
}

export const US_ADDRESS = {
  name: "Ada Lovelace",
  line1: "1 Main Street",
  city: "Springfield",
  region: "IL",
  postal_code: "62701",
  country: "US",
};
