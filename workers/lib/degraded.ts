import type { MiddlewareHandler } from "hono";
import { contextStorage, tryGetContext } from "hono/context-storage";
import { routePath } from "hono/route";
import type { AppEnv } from "./env";
import { log } from "./logging";
import { setResponseHeader } from "./response-headers";

/** Response header naming the dependencies a response was served without, e.g. `d1`. */
export const DEGRADED_HEADER = "Popcart-Degraded";

/** Public caching of a degraded response: short, so caches pick up the recovery within seconds. */
export const DEGRADED_CACHE_CONTROL = "public, max-age=5";

export type DegradedDependency = "d1" | (string & {});

/** One fallback used while answering a request. */
export interface Degradation {
  dependency: DegradedDependency;
  /** What answered instead, e.g. `kv-last-good`. */
  fallback: string;
}

// The request's context through AsyncLocalStorage: catalog services stay free of HTTP types.
const storage = contextStorage();

/**
 * Records that the current request was answered without `dependency` (from a fallback).
 * Domain code calls this without any HTTP types; {@link degradedResponses} turns it into the
 * response header, a log field and a metric. Outside a request it only logs.
 */
export function markDegraded(dependency: DegradedDependency, fallback: string): void {
  const degradations = tryGetContext<AppEnv>()?.get("degradations");
  if (degradations) degradations.push({ dependency, fallback });
  else log("warn", "served_degraded", { dependency, fallback });
}

/**
 * Tells clients and operators when a response came from a fallback: sets
 * `Popcart-Degraded: d1`, shortens public caching (a fallback may be stale, and recovery
 * should show within seconds), adds `degraded` to the request log and emits a `degraded`
 * metric per fallback used.
 */
export const degradedResponses = (): MiddlewareHandler<AppEnv> =>
  async function degradedResponses(c, next) {
    const degradations: Degradation[] = [];
    c.set("degradations", degradations);
    await storage(c, next);
    if (degradations.length === 0) return;
    const dependencies = [...new Set(degradations.map((d) => d.dependency))];
    setResponseHeader(c, DEGRADED_HEADER, dependencies.join(", "));
    if (c.res.headers.get("cache-control")?.startsWith("public"))
      setResponseHeader(c, "cache-control", DEGRADED_CACHE_CONTROL);
    c.get("log").fields.degraded = dependencies.join(",");
    const route = routePath(c, -1);
    for (const { dependency, fallback } of degradations) {
      c.get("metrics").degraded({ dependency, fallback, route });
    }
    log("warn", "served_degraded", {
      request_id: c.get("requestId"),
      route,
      dependencies,
      fallbacks: degradations.map((d) => d.fallback),
    });
  };
