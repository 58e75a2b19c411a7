import type { MiddlewareHandler } from "hono";
import { requestId as honoRequestId } from "hono/request-id";
import type { AppEnv } from "./env";
import { newId } from "./ids";
import { setResponseHeader } from "./response-headers";

export interface RequestIdOptions {
  /** Header read from the client (if well-formed) and echoed on the response. */
  headerName?: string;
}

/**
 * Gives every request an id (Hono's `requestId`: a caller's id is kept only if short and made of
 * `[A-Za-z0-9_=-]`, so it cannot inject into logs; else a fresh `req_…`), echoed in
 * `x-request-id` on every response, errors included, and starts the request's log fields.
 */
export const requestId = (opts: RequestIdOptions = {}): MiddlewareHandler<AppEnv> => {
  const headerName = opts.headerName ?? "x-request-id";
  const assign = honoRequestId({ headerName, limitLength: 64, generator: () => newId("req") });
  return async function requestId(c, next) {
    c.set("log", { fields: {} });
    await assign(c, next);
    // Hono's middleware sets the header before the handler runs, which a handler returning its
    // own Response (static assets, a proxied fetch) replaces: set it on the final response too.
    setResponseHeader(c, headerName, c.get("requestId"));
  };
};
