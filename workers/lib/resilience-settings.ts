import type { CircuitBreakerSettings } from "./circuit-breaker";

/** A positive integer env var, or `fallback` when unset or not a positive integer. */
export function positiveInt(raw: string | undefined, fallback: number): number {
  const value = raw === undefined ? Number.NaN : Number(raw.trim());
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

/** Timeout and breaker settings for one dependency. */
export interface DependencySettings {
  /** Deadline for one call, retries included. */
  timeoutMs: number;
  breaker: CircuitBreakerSettings;
}

/** The payment provider: `PAYMENT_TIMEOUT_MS`, `PAYMENT_BREAKER_THRESHOLD`, `PAYMENT_BREAKER_COOLDOWN_MS`. */
export function paymentSettings(env: {
  PAYMENT_TIMEOUT_MS?: string;
  PAYMENT_BREAKER_THRESHOLD?: string;
  PAYMENT_BREAKER_COOLDOWN_MS?: string;
}): DependencySettings {
  return {
    timeoutMs: positiveInt(env.PAYMENT_TIMEOUT_MS, 8_000),
    breaker: {
      failureThreshold: positiveInt(env.PAYMENT_BREAKER_THRESHOLD, 5),
      cooldownMs: positiveInt(env.PAYMENT_BREAKER_COOLDOWN_MS, 30_000),
    },
  };
}

/** D1 settings; `readBudgetMs` is how long a catalog read waits for D1 before serving its last good copy. */
export interface DatabaseSettings extends DependencySettings {
  readBudgetMs: number;
}

/** D1: `D1_TIMEOUT_MS`, `D1_READ_BUDGET_MS`, `D1_BREAKER_THRESHOLD`, `D1_BREAKER_COOLDOWN_MS`. */
export function databaseSettings(env: {
  D1_TIMEOUT_MS?: string;
  D1_READ_BUDGET_MS?: string;
  D1_BREAKER_THRESHOLD?: string;
  D1_BREAKER_COOLDOWN_MS?: string;
}): DatabaseSettings {
  return {
    timeoutMs: positiveInt(env.D1_TIMEOUT_MS, 5_000),
    readBudgetMs: positiveInt(env.D1_READ_BUDGET_MS, 300),
    breaker: {
      failureThreshold: positiveInt(env.D1_BREAKER_THRESHOLD, 5),
      cooldownMs: positiveInt(env.D1_BREAKER_COOLDOWN_MS, 10_000),
    },
  };
}

/** The 3PL webhook: `FULFILMENT_TIMEOUT_MS`, `FULFILMENT_BREAKER_THRESHOLD`, `FULFILMENT_BREAKER_COOLDOWN_MS`. */
export function fulfilmentSettings(env: {
  FULFILMENT_TIMEOUT_MS?: string;
  FULFILMENT_BREAKER_THRESHOLD?: string;
  FULFILMENT_BREAKER_COOLDOWN_MS?: string;
}): DependencySettings {
  return {
    timeoutMs: positiveInt(env.FULFILMENT_TIMEOUT_MS, 10_000),
    breaker: {
      failureThreshold: positiveInt(env.FULFILMENT_BREAKER_THRESHOLD, 5),
      cooldownMs: positiveInt(env.FULFILMENT_BREAKER_COOLDOWN_MS, 60_000),
    },
  };
}
