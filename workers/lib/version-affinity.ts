import type { Context, MiddlewareHandler } from "hono";
import { generateCookie, getCookie } from "hono/cookie";
import { sha256Hex } from "./crypto";
import type { AppEnv } from "./env";
import { setResponseHeader } from "./response-headers";

/** The request header Cloudflare hashes to pin a request to one version of a gradual deployment. */
export const VERSION_KEY_REQUEST_HEADER = "cloudflare-workers-version-key";
/** The response header telling API clients which key to send back. */
export const VERSION_KEY_RESPONSE_HEADER = "x-popcart-version-key";
/** The cookie a zone Transform Rule copies into the request header (README.md#version-affinity). */
export const VERSION_KEY_COOKIE = "popcart_vk";

const SAFE_KEY = /^[A-Za-z0-9_-]{1,64}$/;
// Long enough to outlive any rollout, short enough not to pin a browser forever.
const COOKIE_MAX_AGE_SECONDS = 7 * 24 * 3600;

/**
 * The version key of a cart: a hash, so the cart id (half of a cart's credentials) never
 * travels in a header the CDN logs or in a cookie a Transform Rule reads.
 */
export async function cartVersionKey(cartId: string): Promise<string> {
  return `vk_${(await sha256Hex(`cart:${cartId}`)).slice(0, 32)}`;
}

/**
 * Pins the rest of this shopper's requests to the key of `cartId`. Call it from the handler
 * that creates a cart (its id does not exist in the request yet); routes under
 * `/api/carts/{id}` get the cart's key from `cartIdParam` automatically.
 */
export async function useCartVersionKey(c: Context<AppEnv>, cartId: string): Promise<void> {
  c.set("versionKey", await cartVersionKey(cartId));
}

export interface VersionAffinityOptions {
  /** Route parameter holding a cart id, for routes mounted under `/api/carts/:id`. */
  cartIdParam?: string;
}

/**
 * Version affinity for gradual deployments. Cloudflare routes a request by the
 * `Cloudflare-Workers-Version-Key` REQUEST header, which the Worker cannot set for itself: it
 * can only tell the client which key to send. This middleware chooses the key (in order: one a
 * handler set with `useCartVersionKey`, the cart of a `/api/carts/{id}` route, the key the
 * request already carries, the cookie, a new random session key), then answers it in
 * `x-popcart-version-key` and in the `popcart_vk` cookie. API clients echo the header; for
 * browsers a zone Transform Rule copies the cookie into the request header.
 */
export const versionAffinity = (opts: VersionAffinityOptions = {}): MiddlewareHandler<AppEnv> =>
  async function versionAffinity(c, next) {
    await next();
    const fromRequest = [c.req.header(VERSION_KEY_REQUEST_HEADER), getCookie(c, VERSION_KEY_COOKIE)].find(
      (key): key is string => key !== undefined && SAFE_KEY.test(key),
    );
    const cartId = opts.cartIdParam ? c.req.param(opts.cartIdParam) : undefined;
    const key =
      c.get("versionKey") ??
      (cartId && c.res.status < 400 ? await cartVersionKey(cartId) : undefined) ??
      fromRequest ??
      `vk_${crypto.randomUUID().replaceAll("-", "")}`;
    setResponseHeader(c, VERSION_KEY_RESPONSE_HEADER, key);
    if (getCookie(c, VERSION_KEY_COOKIE) !== key) {
      const cookie = generateCookie(VERSION_KEY_COOKIE, key, {
        path: "/",
        secure: true,
        httpOnly: true,
        sameSite: "Lax",
        maxAge: COOKIE_MAX_AGE_SECONDS,
      });
      setResponseHeader(c, "set-cookie", cookie, { append: true });
    }
  };
