import type { Context } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Sends a console page: never cached, never indexed. */
export async function render(c: Context, page: JSX.Element, status: ContentfulStatusCode = 200) {
  c.header("cache-control", "no-store");
  c.header("x-robots-tag", "noindex");
  return c.html(`<!doctype html>${await page.toString()}`, status);
}
