import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "./env";
import { log } from "./logging";

/** One structured line per request: id, method, matched route, status, duration, plus domain ids. */
export const requestLogger = (): MiddlewareHandler<AppEnv> =>
  async function requestLogger(c, next) {
    const started = performance.now();
    await next();
    const status = c.res.status;
    log(status >= 500 ? "error" : "info", "request", {
      request_id: c.get("requestId"),
      method: c.req.method,
      route: routePath(c, -1),
      path: new URL(c.req.url).pathname,
      status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      ...c.get("log")?.fields,
    });
  };
