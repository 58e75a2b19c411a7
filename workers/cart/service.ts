import type { CartObject, CartResult } from "../../durable-objects/cart";
import { sha256Hex } from "../lib/crypto";
import { newId, newSecret } from "../lib/ids";
import type { Currency } from "../lib/money";
import type { CartView } from "./schemas";

const CART_ID = /^cart_[0-9a-z]{20}$/;

/** The cart object for an id, or null for anything that is not a well-formed cart id. */
export function cartStub(env: Env, cartId: string): DurableObjectStub<CartObject> | null {
  if (!CART_ID.test(cartId)) return null;
  return env.CART.get(env.CART.idFromName(cartId));
}

/** Tokens are stored hashed; a missing token hashes to something no cart stores. */
export const cartTokenHash = (token: string | undefined): Promise<string> => sha256Hex(token ?? "");

/** Creates a cart with a random id and secret token; the token is returned once, never stored. */
export async function createCart(
  env: Env,
  input: { currency: Currency; email?: string },
): Promise<{ cart: CartView; token: string }> {
  const id = newId("cart");
  const token = newSecret();
  const stub = cartStub(env, id);
  if (!stub) throw new Error("generated cart id is malformed");
  const cart = await stub.create({
    id,
    tokenHash: await sha256Hex(token),
    currency: input.currency,
    email: input.email,
  });
  return { cart, token };
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
