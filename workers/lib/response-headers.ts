import type { Context } from "hono";

/**
 * Sets a header on the response a handler already produced. Hono's `c.header` copies the whole
 * Response at that point, on every call (a new Response around the same body, in case its
 * headers are immutable): six middleware headers made six copies of every response, and turned
 * every body into a stream. The responses our handlers build have mutable headers, so the
 * header is set in place; only an immutable one (a `fetch` result) is copied, once.
 */
export function setResponseHeader(
  c: Context,
  name: string,
  value: string,
  options?: { append?: boolean },
): void {
  try {
    if (options?.append) c.res.headers.append(name, value);
    else c.res.headers.set(name, value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    c.header(name, value, options);
  }
}
