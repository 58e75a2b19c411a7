import { reportCircuitChanges } from "./circuit-reporting";
import { guardDatabase, isGuarded } from "./d1-guard";
import type { MetricsSink } from "./metrics";
import { databaseSettings } from "./resilience-settings";

/** The bindings {@link resilientEnv} reads: D1, its settings vars and the metrics sink. */
interface DatabaseEnv {
  DB: D1Database;
  D1_TIMEOUT_MS?: string;
  D1_READ_BUDGET_MS?: string;
  D1_BREAKER_THRESHOLD?: string;
  D1_BREAKER_COOLDOWN_MS?: string;
  METRICS?: MetricsSink;
  CF_VERSION_METADATA?: WorkerVersionMetadata;
}

const wrapped = new WeakMap<object, object>();

/**
 * `env` with its `DB` binding guarded (deadline + `d1` circuit breaker, see d1-guard.ts).
 * Applied once where a Worker or Durable Object receives its env, so every D1 call in the
 * request, queue, cron and object paths is bounded without touching the call sites.
 *
 * A shallow copy with `DB` replaced, memoised per env object: the runtime hands an isolate
 * the same env on every call, so it is copied once. Bindings never change under a running
 * Worker; a test that wants another D1 passes an env of its own (`{ ...env, DB }`), which is
 * guarded in turn. Spreading the result keeps the guarded `DB`, and wrapping it again is a no-op.
 */
export function resilientEnv<E extends DatabaseEnv>(env: E): E {
  if (isGuarded(env.DB)) return env;
  const cached = wrapped.get(env);
  if (cached) return cached as E;
  const guarded: E = { ...env, DB: guardDatabase(env.DB, databaseSettings(env), reportCircuitChanges(env)) };
  wrapped.set(env, guarded);
  return guarded;
}
