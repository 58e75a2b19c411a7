import { createsLines } from "../cart/routes";
import { cartKey, clientCartKey, clientKey, type RateLimitOptions, WRITE_METHODS } from "../lib/rate-limit";

/** A rate limit and the Hono path pattern it guards. */
export interface RouteRateLimit extends RateLimitOptions {
  path: string;
}

/**
 * Every route rate limit (README.md#rate-limits), in the order they run. The edge app mounts
 * them and the OpenAPI document declares `429` on exactly the operations they guard.
 */
export const ROUTE_RATE_LIMITS: readonly RouteRateLimit[] = [
  // Bearer-token auth is the admin API's login: bound guessing per client.
  { path: "/admin/api/*", binding: "ADMIN_RATE_LIMITER", key: clientKey, periodSeconds: 60 },
  // Shopper abuse limits: per client for cart creation and stock-reserving line changes, per
  // cart for writes and checkout attempts, client+cart for codes (failed code guesses are
  // limited per client and per code prefix by workers/promotions/guess-limits.ts).
  {
    path: "/api/carts",
    binding: "CART_WRITE_RATE_LIMITER",
    key: clientKey,
    periodSeconds: 10,
    methods: ["POST"],
  },
  // A whole cart created with its lines reserves stock like adding them one by one.
  {
    path: "/api/carts",
    binding: "RESERVATION_RATE_LIMITER",
    key: clientKey,
    periodSeconds: 10,
    methods: ["POST"],
    when: createsLines,
  },
  {
    path: "/api/carts/:id/*",
    binding: "CART_WRITE_RATE_LIMITER",
    key: cartKey(),
    periodSeconds: 10,
    methods: WRITE_METHODS,
    // A checkout attempt is counted by the cart object itself (CART_ATTEMPT_LIMITS below).
    when: (c) => !c.req.path.endsWith("/checkout"),
  },
  ...["/api/carts/:id/lines", "/api/carts/:id/lines/*"].map(
    (path): RouteRateLimit => ({
      path,
      binding: "RESERVATION_RATE_LIMITER",
      key: clientKey,
      periodSeconds: 10,
      methods: ["POST", "PATCH"],
    }),
  ),
  {
    path: "/api/carts/:id/promotions",
    binding: "PROMO_CODE_RATE_LIMITER",
    key: clientCartKey(),
    periodSeconds: 60,
    methods: ["POST"],
  },
  // Status reads may poll the payment provider (throttled per checkout in the cart object):
  // bound them per client so many carts from one address cannot spend the provider's limit.
  {
    path: "/api/checkouts/:id",
    binding: "CHECKOUT_STATUS_RATE_LIMITER",
    key: clientKey,
    periodSeconds: 10,
    methods: ["GET"],
  },
  {
    path: "/api/waiting-rooms/:room/tickets",
    binding: "WAITING_ROOM_JOIN_RATE_LIMITER",
    key: clientKey,
    periodSeconds: 10,
    methods: ["POST"],
  },
];

/**
 * Limits the cart object enforces itself (workers/checkout/attempt-limits.ts: 10 a minute per
 * cart, 429 `rate_limited` with `Retry-After` like the limiters above): exact per cart
 * worldwide, counting only attempts made with the cart's token, and no call of their own. Listed
 * here so the OpenAPI document declares their 429 with the rest.
 */
export const CART_ATTEMPT_LIMITS: readonly { method: string; path: string }[] = [
  { method: "POST", path: "/api/carts/:id/checkout" },
  { method: "POST", path: "/api/checkouts/:id/confirm" },
];

/** Hono's pattern as a regular expression; a trailing `/*` also matches the bare prefix, as in Hono. */
function patternRegex(pattern: string): RegExp {
  const body = pattern
    .replace(/\/\*$/, "(?:/.*)?")
    .split(/(\(\?:\/\.\*\)\?)/)
    .map((part, i) => (i % 2 ? part : part.replace(/:[A-Za-z_]\w*/g, "[^/]+")))
    .join("");
  return new RegExp(`^${body}$`);
}

/** Whether a request to `method` + OpenAPI `path` (`{param}` segments) can be rate limited. */
export function isRateLimited(method: string, path: string): boolean {
  const concrete = path.replace(/\{[^}]+\}/g, "x");
  const upper = method.toUpperCase();
  return (
    ROUTE_RATE_LIMITS.some(
      (limit) => (!limit.methods || limit.methods.includes(upper)) && patternRegex(limit.path).test(concrete),
    ) ||
    CART_ATTEMPT_LIMITS.some((limit) => limit.method === upper && patternRegex(limit.path).test(concrete))
  );
}
