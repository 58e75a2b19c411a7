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
 * A view, not a copy: every other binding and var is read from `env` itself (so is `DB`,
 * re-guarded if it is ever replaced), and it is memoised per env object, so the per-isolate
 * env is wrapped once. Spreading it (`{ ...env, X }`) keeps the guarded `DB`.
 */
export function resilientEnv<E extends DatabaseEnv>(env: E): E {
  if (isGuarded(env.DB)) return env;
  const cached = wrapped.get(env);
  if (cached) return cached as E;
  let raw = env.DB;
  let guarded = guardDatabase(raw, databaseSettings(env), reportCircuitChanges(env));
  const database = () => {
    if (env.DB !== raw) {
      raw = env.DB;
      guarded = isGuarded(raw) ? raw : guardDatabase(raw, databaseSettings(env), reportCircuitChanges(env));
    }
    return guarded;
  };
  const view = new Proxy(env, {
    get: (target, property, receiver) =>
      property === "DB" ? database() : Reflect.get(target, property, receiver),
    getOwnPropertyDescriptor: (target, property) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target, property);
      if (property !== "DB" || !descriptor?.configurable) return descriptor;
      return {
        configurable: true,
        enumerable: descriptor.enumerable ?? true,
        writable: true,
        value: database(),
      };
    },
  });
  wrapped.set(env, view);
  return view;
}
