import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { setResponseHeader } from "./response-headers";

/**
 * CSP for HTML pages. Stripe's Payment Element needs its script from js.stripe.com, its API
 * at api.stripe.com, and iframes from js.stripe.com / hooks.stripe.com (3-D Secure).
 * `style-src 'unsafe-inline'` is kept for the server-rendered pages' inline styles; scripts
 * stay strict. Exported so static assets can carry the same policy (static/_headers).
 */
export const HTML_CSP = [
  "default-src 'self'",
  "script-src 'self' https://js.stripe.com https://*.js.stripe.com",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https://*.stripe.com",
  "font-src 'self'",
  "connect-src 'self' https://api.stripe.com",
  "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Non-HTML responses (JSON, problems) load nothing and are never framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export const HSTS = "max-age=63072000; includeSubDomains";

/** Stripe's Payment Request / wallets need the Payment Request API in its frames. */
export const PERMISSIONS_POLICY =
  'payment=(self "https://js.stripe.com"), camera=(), microphone=(), geolocation=()';

/**
 * Security headers on every response: HSTS, nosniff and a referrer policy everywhere; the
 * Stripe-compatible CSP plus anti-framing on HTML; a deny-all CSP on everything else.
 * Headers a handler set itself are left alone.
 */
export const securityHeaders = (): MiddlewareHandler<AppEnv> =>
  async function securityHeaders(c, next) {
    await next();
    const isHtml = c.res.headers.get("content-type")?.startsWith("text/html") ?? false;
    const set = (name: string, value: string) => {
      if (!c.res.headers.has(name)) setResponseHeader(c, name, value);
    };
    set("strict-transport-security", HSTS);
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "strict-origin-when-cross-origin");
    set("content-security-policy", isHtml ? HTML_CSP : API_CSP);
    if (isHtml) {
      set("x-frame-options", "DENY");
      set("permissions-policy", PERMISSIONS_POLICY);
    }
  };
