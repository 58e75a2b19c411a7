import type { MiddlewareHandler } from "hono";
import { sha256Hex } from "../lib/crypto";
import type { AppEnv } from "../lib/env";
import { shopperCurrency } from "./preferences";

/** Seconds a rendered catalog page is fresh at the edge and in browsers. */
export const PAGE_TTL_SECONDS = 60;
/** Browsers and CDNs may keep serving a stale page this long while revalidating. */
export const PAGE_STALE_SECONDS = 300;
export const PAGE_CACHE_CONTROL = `public, max-age=${PAGE_TTL_SECONDS}, stale-while-revalidate=${PAGE_STALE_SECONDS}`;

/**
 * Caches server-rendered catalog pages in the edge Cache API, keyed by URL **and** the
 * shopper's currency (the only per-visitor input: the cart badge is filled in client-side),
 * and answers `If-None-Match` with 304. Staleness is bounded by {@link PAGE_TTL_SECONDS} on
 * top of the catalog projection's own window; availability is never baked in (the page
 * reads it live from /api/availability).
 */
export const pageCache = (): MiddlewareHandler<AppEnv> =>
  async function pageCache(c, next) {
    if (c.req.method !== "GET") return next();
    const currency = shopperCurrency(c);
    const url = new URL(c.req.url);
    url.searchParams.sort();
    const key = new Request(`https://storefront.cache/${currency}${url.pathname}${url.search}`);
    const cache = await caches.open("storefront-pages");

    let res = await cache.match(key);
    let state = "hit";
    if (!res) {
      state = "miss";
      await next();
      if (c.res.status !== 200 || !c.res.headers.get("content-type")?.startsWith("text/html")) return;
      const html = await c.res.text();
      const etag = `W/"${(await sha256Hex(`${currency}\n${html}`)).slice(0, 32)}"`;
      const headers = new Headers(c.res.headers);
      headers.set("cache-control", PAGE_CACHE_CONTROL);
      headers.set("etag", etag);
      headers.set("vary", "Cookie");
      headers.delete("x-request-id");
      res = new Response(html, { status: 200, headers });
      const stored = res.clone();
      c.executionCtx.waitUntil(cache.put(key, stored));
    }
    const headers = new Headers(res.headers);
    headers.set("x-page-cache", state);
    const etag = headers.get("etag");
    if (
      etag &&
      c.req
        .header("if-none-match")
        ?.split(/\s*,\s*/)
        .includes(etag)
    ) {
      c.res = new Response(null, { status: 304, headers });
      return;
    }
    c.res = new Response(res.body, { status: 200, headers });
  };

/** Pages that depend on one shopper's state (cart, checkout, orders) must never be stored. */
export const noStore = (): MiddlewareHandler<AppEnv> =>
  async function noStore(c, next) {
    await next();
    c.res.headers.set("cache-control", "no-store");
  };
