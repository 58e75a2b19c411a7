import type { RequestLog } from "./logging";

/** Per-request values set by middleware and read by handlers. */
export interface AppVariables {
  requestId: string;
  log: RequestLog;
  /** Scopes granted to the admin bearer token, set by `requireAdmin`. */
  adminScopes?: ReadonlySet<string>;
  adminTokenId?: string;
}

/** Hono environment of every Popcart app: Cloudflare bindings plus request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
