import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { ApiError } from "./problem";
import { setResponseHeader } from "./response-headers";

export interface CorsOptions {
  /** Allowed origins (exact `scheme://host[:port]`); defaults to the `API_ALLOWED_ORIGINS` var. */
  origins?: (env: Env) => string[];
  methods?: string[];
  /** Request headers a browser may send cross-origin (lower-case). */
  allowHeaders?: string[];
  /** Response headers scripts may read. */
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
}

const DEFAULT_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const DEFAULT_ALLOW_HEADERS = [
  "content-type",
  "x-cart-token",
  "popcart-admission",
  "idempotency-key",
  "if-none-match",
  "x-request-id",
  "cloudflare-workers-version-key",
];
const DEFAULT_EXPOSE_HEADERS = [
  "x-request-id",
  "x-popcart-version",
  "x-popcart-version-tag",
  "x-popcart-version-key",
  "server-timing",
  "retry-after",
  "etag",
  "location",
  "popcart-degraded",
];
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** `API_ALLOWED_ORIGINS`: comma-separated exact origins. */
export function allowedOrigins(env: Env): string[] {
  return (env.API_ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter(Boolean);
}

const corsDenied = (origin: string) =>
  new ApiError(403, "cors_origin_denied", "Origin not allowed", {
    detail: `Cross-origin requests from ${origin} are not allowed.`,
  });

/**
 * Strict CORS for the API: only listed origins (plus the API's own origin) get
 * `Access-Control-Allow-Origin`, echoed exactly, never `*` — the API authenticates with
 * headers (`X-Cart-Token`, bearer tokens), so credentials are never allowed. Preflights from
 * other origins, and state-changing requests carrying a foreign `Origin`, answer 403
 * `cors_origin_denied` instead of reaching a handler.
 */
export const cors = (opts: CorsOptions = {}): MiddlewareHandler<AppEnv> => {
  const methods = opts.methods ?? DEFAULT_METHODS;
  const allowHeaders = new Set(opts.allowHeaders ?? DEFAULT_ALLOW_HEADERS);
  const expose = (opts.exposeHeaders ?? DEFAULT_EXPOSE_HEADERS).join(", ");
  const maxAge = String(opts.maxAgeSeconds ?? 600);
  return async function cors(c, next) {
    const origin = c.req.header("origin");
    if (!origin) return next();
    const own = new URL(c.req.url).origin;
    const allowed = origin === own || (opts.origins ?? allowedOrigins)(c.env).includes(origin);
    const preflight =
      c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
    if (preflight) {
      if (!allowed) throw corsDenied(origin);
      const method = c.req.header("access-control-request-method")?.toUpperCase() ?? "";
      const requested = (c.req.header("access-control-request-headers") ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      const refused = requested.filter((h) => !allowHeaders.has(h));
      if (!methods.includes(method) || refused.length > 0) {
        throw new ApiError(403, "cors_request_denied", "Cross-origin request not allowed", {
          detail: `Method ${method} or headers [${refused.join(", ")}] are not allowed cross-origin.`,
        });
      }
      return c.body(null, 204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": methods.join(", "),
        "access-control-allow-headers": [...allowHeaders].join(", "),
        "access-control-max-age": maxAge,
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      });
    }
    if (!allowed && UNSAFE_METHODS.has(c.req.method)) throw corsDenied(origin);
    await next();
    setResponseHeader(c, "vary", "Origin", { append: true });
    if (allowed) {
      setResponseHeader(c, "access-control-allow-origin", origin);
      setResponseHeader(c, "access-control-expose-headers", expose);
    }
  };
};
