import type { Degradation } from "./degraded";
import type { RequestLog } from "./logging";
import type { Metrics } from "./metrics";
import type { ServerTiming } from "./server-timing";

/** Per-request values set by middleware and read by handlers. */
export interface AppVariables {
  requestId: string;
  log: RequestLog;
  /** Scopes granted to the admin bearer token, set by `requireAdmin`. */
  adminScopes?: ReadonlySet<string>;
  adminTokenId?: string;
  /** `timing.measure("kv", () => …)`: feeds the `Server-Timing` header. */
  timing: ServerTiming;
  /** Typed Analytics Engine metrics (reservations, checkouts, payments …). */
  metrics: Metrics;
  /** A version-affinity key chosen by a handler (`useCartVersionKey`). */
  versionKey?: string;
  /** Fallbacks used for this response (`markDegraded`), reported as `Popcart-Degraded`. */
  degradations?: Degradation[];
}

/** Hono environment of every Popcart app: Cloudflare bindings plus request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
