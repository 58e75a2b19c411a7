import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { log } from "./logging";
import { ApiError } from "./problem";

/** Names of the Workers rate-limiting bindings declared in wrangler.toml (`[[ratelimits]]`). */
export type RateLimitBindingName = {
  [K in keyof Env]-?: Env[K] extends RateLimit ? K : never;
}[keyof Env];

export interface RateLimitOptions {
  /** The `[[ratelimits]]` binding; its limit and period live in wrangler.toml. */
  binding: RateLimitBindingName;
  /**
   * The counter key, e.g. `clientKey(c)` or `cart:${id}`. Returning null skips the limit (for
   * requests the key cannot be derived from; validation answers them anyway).
   */
  key: (c: Context<AppEnv>) => string | null | undefined;
  /**
   * The binding's `period` (10 or 60). The binding reports only success/failure, so the
   * whole period is the honest upper bound for `Retry-After`.
   */
  periodSeconds: 10 | 60;
  /** Only these methods count (e.g. writes only); all methods when omitted. */
  methods?: readonly string[];
  /** Only requests this accepts count (e.g. a cart creation that also reserves stock). */
  when?: (c: Context<AppEnv>) => boolean | Promise<boolean>;
}

/** What a `rate_limited` answer says, wherever the limit is kept (edge binding or cart object). */
export const rateLimitedDetail = (retryAfterSeconds: number) =>
  `Too many requests. Retry after ${retryAfterSeconds} seconds.`;

/** The `rate_limited` problem: 429 with `Retry-After`. */
export const rateLimited = (retryAfterSeconds: number) =>
  new ApiError(429, "rate_limited", "Too many requests", {
    detail: rateLimitedDetail(retryAfterSeconds),
    extensions: { retry_after: retryAfterSeconds },
    headers: { "Retry-After": String(retryAfterSeconds) },
  });

/**
 * Limits requests per key with a Workers rate-limiting binding; over the limit answers 429
 * `rate_limited` with `Retry-After`. Counts are per Cloudflare location and approximate, which
 * is right for abuse protection; exact per-customer caps belong in the domain (inventory limits).
 *
 * A missing binding or a failing limiter lets the request through and logs a warning:
 * this is abuse protection, and failing closed would turn a limiter outage into a store outage.
 */
export const rateLimit = (opts: RateLimitOptions): MiddlewareHandler<AppEnv> =>
  async function rateLimit(c, next) {
    if (opts.methods && !opts.methods.includes(c.req.method)) return next();
    if (opts.when && !(await opts.when(c))) return next();
    const key = opts.key(c);
    const limiter = c.env[opts.binding] as RateLimit | undefined;
    if (key && limiter) {
      let success = true;
      try {
        ({ success } = await limiter.limit({ key }));
      } catch (error) {
        log("warn", "rate_limiter_failed", { binding: opts.binding, error: String(error) });
      }
      if (!success) {
        c.get("log").fields.rate_limited = opts.binding;
        throw rateLimited(opts.periodSeconds);
      }
    } else if (key && !limiter) {
      log("warn", "rate_limiter_missing", { binding: opts.binding });
    }
    await next();
  };

/**
 * The client's identity for rate limits: `CF-Connecting-IP` (set by Cloudflare, not
 * spoofable behind it), with IPv6 addresses reduced to their /64, which one subscriber holds.
 * Null without the header, which only happens off Cloudflare (tests, service bindings):
 * lumping every such caller under one key would make them throttle each other.
 */
export function clientKey(c: Context<AppEnv>): string | null {
  const ip = c.req.header("cf-connecting-ip")?.trim();
  if (!ip) return null;
  return ip.includes(":") ? `ip6:${ipv6Prefix64(ip)}` : `ip:${ip}`;
}

/** Keys a route's cart (`cart:<id>` from the `:id` path parameter, or another parameter). */
export const cartKey =
  (param = "id") =>
  (c: Context<AppEnv>): string | null => {
    const id = c.req.param(param);
    return id ? `cart:${id}` : null;
  };

/** Keys the pair client + cart, for attempts a shopper could spread over many carts or clients. */
export const clientCartKey =
  (param = "id") =>
  (c: Context<AppEnv>): string | null => {
    const cart = cartKey(param)(c);
    const client = clientKey(c);
    return cart && client ? `${client}|${cart}` : null;
  };

/** HTTP methods that change state: pass as `methods` to leave reads unlimited. */
export const WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"] as const;

/** The first four groups of an IPv6 address, with `::` expanded. */
export function ipv6Prefix64(ip: string): string {
  const [head = "", tail] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":");
}
