import { ADMIN, callJson, expectJson } from "./helpers";
import { addLine, newCart, type TestCart } from "./revenue-fixtures";

export { addLine };

export interface CartView {
  id: string;
  region: string;
  currency: string;
  shipping_method: ShippingMethodView | null;
  shipping_methods: ShippingMethodView[];
  lines: { id: string; sku: string; tax: { amount: number }; tax_rate_bp: number }[];
  totals: {
    subtotal: { amount: number; currency: string };
    discount: { amount: number };
    shipping: { amount: number };
    tax: { amount: number };
    total: { amount: number };
    tax_inclusive: boolean;
    tax_lines: { name: string; rate_bp: number; amount: { amount: number } }[];
  };
}

export interface ShippingMethodView {
  id: string;
  name: string;
  amount: { amount: number; currency: string };
  free_over: { amount: number } | null;
  min_days: number;
  max_days: number;
}

export const suffix = () => crypto.randomUUID().slice(0, 6).toUpperCase();

/** A street address in `country` (and state/province `region`). */
export const addressIn = (country: string, region?: string) => ({
  name: "Ada Lovelace",
  line1: "Unter den Linden 1",
  city: "Berlin",
  postal_code: "10117",
  country,
  ...(region ? { region } : {}),
});

export const ok = <T = CartView>(res: Response, status = 200): Promise<T> => expectJson<T>(res, status);

export const admin = (path: string, method: string, body?: unknown) =>
  callJson(`/admin/api/regions${path}`, method, body, ADMIN);

/** Creates a region through the admin API; `code` gets a unique suffix. Returns the region code. */
export async function createRegion(body: Record<string, unknown>): Promise<string> {
  const code = `${String(body.code ?? "R")}-${suffix()}`;
  await ok(await admin("", "POST", { ...body, code }), 201);
  return code;
}

export const setAddress = (cart: TestCart, address: object) =>
  callJson(`/api/carts/${cart.id}/shipping-address`, "PUT", address, cart.headers);

export const setMethod = (cart: TestCart, id: string) =>
  callJson(`/api/carts/${cart.id}/shipping-method`, "PUT", { id }, cart.headers);

export const viewCart = async (cart: TestCart) =>
  ok(await callJson(`/api/carts/${cart.id}`, "GET", undefined, cart.headers));

/** A cart in `currency` with the given lines. */
export async function cartWith(
  currency: string,
  lines: { sku: string; quantity: number }[],
): Promise<TestCart> {
  const cart = await newCart(currency);
  for (const line of lines) await ok(await addLine(cart, line.sku, line.quantity));
  return cart;
}
