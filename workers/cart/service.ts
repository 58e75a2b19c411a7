import type { CartInit, CartObject, CartResult } from "../../durable-objects/cart";
import { customerIdentity } from "../customers/identity";
import { sha256Hex } from "../lib/crypto";
import { newId, newSecret } from "../lib/ids";
import type { ShippingOption } from "../regions/config";
import { quoteShipping } from "../regions/shipping-quote";
import { type Admission, NO_ADMISSION } from "../waiting-room/admission";
import { initialRegion, shippingOptionIn } from "./cart-pricing";
import { lineRefusal, regionForAddress, shippingUnavailable, unknownShippingMethod } from "./cart-rules";
import { loadCatalogItems } from "./catalog-prices";
import { holdLineStock, releaseLineStock } from "./line-stock";
import { type CartRefusal, stockRefusal } from "./refusals";
import type { CartView, CreateCartInput } from "./schemas";

const CART_ID = /^cart_[0-9a-z]{20}$/;

/** The cart object for an id, or null for anything that is not a well-formed cart id. */
export function cartStub(env: Env, cartId: string): DurableObjectStub<CartObject> | null {
  if (!CART_ID.test(cartId)) return null;
  return env.CART.get(env.CART.idFromName(cartId));
}

/** Tokens are stored hashed; a missing token hashes to something no cart stores. */
export const cartTokenHash = (token: string | undefined): Promise<string> => sha256Hex(token ?? "");

export type CreateCartResult = { ok: true; cart: CartView; token: string } | CartRefusal;

/**
 * Creates a cart with a random id and secret token; the token is returned once, never stored.
 * A whole cart (lines, email, address, shipping method) is all or nothing: everything that
 * can be checked without stock is checked first, then every line's stock is held for the new
 * cart id, and only then is the cart object written. A refused line gives back what the
 * other lines took and no cart is created, so a sold-out storm costs no cart objects.
 *
 * If this worker dies after holding stock but before the cart is written, the holds lapse
 * on their own at the SKU's reservation TTL (the inventory object's alarm): nothing waits
 * for the client.
 */
export async function createCart(
  env: Env,
  input: CreateCartInput,
  admission: Admission = NO_ADMISSION,
): Promise<CreateCartResult> {
  const { currency } = input;
  let regionCode: string | undefined;
  if (input.shipping_address) {
    const target = await regionForAddress(env, currency, input.shipping_address);
    if (!target.ok) return target;
    regionCode = target.region.code;
  }
  const country = input.shipping_address?.country ?? null;
  let shipping: ShippingOption | null = null;
  if (input.shipping_method !== undefined) {
    const region = regionCode ?? (await initialRegion(env, currency))?.code;
    shipping = region ? await shippingOptionIn(env, region, input.shipping_method) : null;
    if (!shipping) return unknownShippingMethod(input.shipping_method);
  }
  const id = newId("cart");
  const token = newSecret();
  const stub = cartStub(env, id);
  if (!stub) throw new Error("generated cart id is malformed");

  const wanted = new Map<string, number>();
  for (const line of input.lines ?? []) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.quantity);
  const catalog = wanted.size > 0 ? await loadCatalogItems(env, [...wanted.keys()], currency) : undefined;
  const lines: NonNullable<CartInit["lines"]> = [];
  for (const [sku, quantity] of wanted) {
    const item = catalog?.get(sku);
    const refused = lineRefusal(sku, item, currency, quantity, { isNewLine: true, lineCount: lines.length });
    if (refused || !item || item.unitPrice === null)
      return refused ?? { ok: false, reason: "sku_unavailable" };
    lines.push({ sku, quantity, unitPrice: item.unitPrice, reservation: null });
  }
  if (shipping) {
    // The goods are known now: the option must serve the destination and take their weight,
    // refused exactly as choosing it on an existing cart would be (before any stock is held).
    const weightGrams = lines.reduce(
      (sum, line) => sum + (catalog?.get(line.sku)?.weightGrams ?? 0) * line.quantity,
      0,
    );
    const quote = quoteShipping(shipping, { country, goodsTotal: 0, weightGrams });
    if (!quote.ok) return shippingUnavailable(quote.reason, shipping.id, country);
  }
  const holds = await Promise.all(
    lines.map((line) =>
      holdLineStock(
        env,
        {
          cartId: id,
          sku: line.sku,
          quantity: line.quantity,
          customer: input.email ? customerIdentity(input.email) : null,
          reservationId: null,
        },
        admission,
      ),
    ),
  );
  const giveBack = () =>
    Promise.all(
      holds.map((hold, i) =>
        hold.ok && hold.reservation
          ? releaseLineStock(env, { sku: lines[i]?.sku ?? "", reservationId: hold.reservation.id })
          : undefined,
      ),
    );
  const refusedAt = holds.findIndex((hold) => !hold.ok);
  const refused = holds[refusedAt];
  if (refused && !refused.ok) {
    await giveBack();
    return stockRefusal(refused, { sku: lines[refusedAt]?.sku ?? "" });
  }
  holds.forEach((hold, i) => {
    const line = lines[i];
    if (line && hold.ok && hold.reservation) {
      line.reservation = { id: hold.reservation.id, expires_at: hold.reservation.expires_at };
    }
  });
  try {
    const cart = await stub.create({
      id,
      tokenHash: await sha256Hex(token),
      currency,
      ...(input.email === undefined ? {} : { email: input.email }),
      ...(input.shipping_address === undefined ? {} : { shippingAddress: input.shipping_address }),
      ...(regionCode === undefined ? {} : { regionCode }),
      ...(input.shipping_method === undefined ? {} : { shippingMethod: input.shipping_method }),
      ...(lines.length === 0 ? {} : { lines, catalog }),
    });
    return { ok: true, cart, token };
  } catch (error) {
    // The cart was not written: its holds must not wait for their TTL.
    await giveBack().catch(() => undefined);
    throw error;
  }
}

/**
 * Runs `action` against the cart object after checking the id's shape. Malformed ids answer
 * exactly like a wrong token, so probing reveals nothing.
 */
export async function withCart(
  env: Env,
  cartId: string,
  token: string | undefined,
  action: (stub: DurableObjectStub<CartObject>, tokenHash: string) => Promise<CartResult>,
): Promise<CartResult> {
  const stub = cartStub(env, cartId);
  if (!stub || !token) return { ok: false, reason: "cart_not_found" };
  return action(stub, await cartTokenHash(token));
}
