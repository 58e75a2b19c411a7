import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { problemResponse } from "./error-handler";
import { ApiError } from "./problem";

/**
 * True when a state-changing request comes from our own pages: a cross-site `Sec-Fetch-Site`
 * or a foreign (or `null`) `Origin` is refused. Without either header (old browsers, non-browser
 * clients) the answer is yes, unless `requireEvidence`: then a request must prove where it
 * comes from, which every current browser does on a form post (it sends `Origin`).
 */
export function sameOrigin(c: Context, options: { requireEvidence?: boolean } = {}): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site && site !== "same-origin" && site !== "none") return false;
  const origin = c.req.header("origin");
  if (origin !== undefined) return origin === new URL(c.req.url).origin;
  return !options.requireEvidence || site !== undefined;
}

/**
 * CSRF protection for cookie-authenticated HTML form posts that carry no token (the
 * storefront's): a POST that does not prove it comes from this origin is refused with 403
 * `cross_site_request` (problem+json) before its handler reads the body. Pass it on every
 * state-changing form route.
 */
export const sameOriginForm = (): MiddlewareHandler<AppEnv> =>
  async function sameOriginForm(c, next) {
    if (c.req.method === "GET" || c.req.method === "HEAD" || sameOrigin(c, { requireEvidence: true })) {
      return next();
    }
    c.get("log").fields.csrf = "refused";
    return problemResponse(
      new ApiError(403, "cross_site_request", "Cross-site form post refused", {
        detail: "This form did not come from this shop's pages. Reload the page and try again.",
      }),
      new URL(c.req.url).pathname,
      c.get("requestId"),
    );
  };

// Control characters (browsers drop tab, CR and LF from URLs, so "/\t/evil" becomes "//evil"),
// backslashes (read as "/") and whitespace have no place in a return path.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const UNSAFE_CHARACTERS = /[\u0000-\u0020\u007f\\]/;

/**
 * A path on this origin to redirect to after a form post, from untrusted input: `value` when,
 * after normalisation, it stays on `requestUrl`'s origin, else `/`. Refused rather than repaired:
 * anything not starting with a single `/`, control characters, whitespace, backslashes, and the
 * same shapes hidden behind percent-encoding (decoded up to three times). What is returned is
 * the path WHATWG URL parsing resolves it to against our origin, never the raw input.
 */
export function sameOriginPath(value: string | undefined, requestUrl: string): string {
  if (!value || value.length > 2048) return "/";
  let layer = value;
  for (let depth = 0; depth < 4; depth++) {
    if (!layer.startsWith("/") || layer.startsWith("//") || UNSAFE_CHARACTERS.test(layer)) return "/";
    let decoded: string;
    try {
      decoded = decodeURIComponent(layer);
    } catch {
      return "/";
    }
    if (decoded === layer) break;
    layer = decoded;
  }
  const origin = new URL(requestUrl).origin;
  let resolved: URL;
  try {
    resolved = new URL(value, origin);
  } catch {
    return "/";
  }
  // "/.//evil.example" resolves to the path "//evil.example", which a browser reads as a host.
  if (resolved.origin !== origin || resolved.pathname.startsWith("//")) return "/";
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
