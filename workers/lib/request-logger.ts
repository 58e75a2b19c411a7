import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "./env";
import { log } from "./logging";
import { metricsFor } from "./metrics";

/**
 * One structured line and one `request` metric per request: id, method, matched route,
 * status, duration, plus domain ids. Also puts `metrics` on the context for handlers.
 */
export const requestLogger = (): MiddlewareHandler<AppEnv> =>
  async function requestLogger(c, next) {
    const started = performance.now();
    const metrics = metricsFor(c.env);
    c.set("metrics", metrics);
    await next();
    const status = c.res.status;
    const route = routePath(c, -1);
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    log(status >= 500 ? "error" : "info", "request", {
      request_id: c.get("requestId"),
      method: c.req.method,
      route,
      path: new URL(c.req.url).pathname,
      status,
      duration_ms: durationMs,
      ...c.get("log")?.fields,
    });
    metrics.request({ route, method: c.req.method, status, latencyMs: durationMs });
  };
