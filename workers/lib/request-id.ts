import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { newId } from "./ids";

export interface RequestIdOptions {
  /** Header read from the client (if well-formed) and echoed on the response. */
  headerName?: string;
}

// Accept a caller's id only if it is short and boring, so it cannot inject into logs.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Gives every request an id, echoed in `x-request-id` on every response (errors included). */
export const requestId = (opts: RequestIdOptions = {}): MiddlewareHandler<AppEnv> => {
  const headerName = opts.headerName ?? "x-request-id";
  return async function requestId(c, next) {
    const incoming = c.req.header(headerName);
    const id = incoming && SAFE_ID.test(incoming) ? incoming : newId("req");
    c.set("requestId", id);
    c.set("log", { fields: {} });
    await next();
    c.res.headers.set(headerName, id);
  };
};
