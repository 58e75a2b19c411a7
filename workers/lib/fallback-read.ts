import { isDatabaseOutage } from "./d1-guard";
import { markDegraded } from "./degraded";
import { within } from "./timeout";

export interface FallbackRead<T> {
  /** The authoritative read (D1). */
  primary: () => Promise<T>;
  /** A possibly stale copy (KV, Cache API), or null when there is none. */
  fallback: () => Promise<T | null>;
  /** How long the primary may take before the fallback is consulted. */
  budgetMs: number;
  /** Names the fallback in the `degraded` metric and log, e.g. `kv-last-good`. */
  fallbackName: string;
}

/**
 * A D1 read that a slow or failing D1 cannot sink when a fallback copy exists.
 *
 * - D1 answers within `budgetMs`: its answer.
 * - D1 fails with an outage (timeout, open circuit, retryable D1 error): the fallback, else
 *   the outage error (503 `database_unavailable`).
 * - D1 is still busy after `budgetMs`: the fallback if there is one (D1's answer is dropped
 *   when it arrives); else keep waiting for D1, which its own deadline bounds.
 *
 * Other errors (a 404, a bad query) propagate unchanged. A fallback answer is recorded with
 * `markDegraded("d1", …)`, which becomes the `Popcart-Degraded` response header.
 */
export async function readWithFallback<T>(read: FallbackRead<T>): Promise<{ value: T; degraded: boolean }> {
  const primary = read.primary();
  const useFallback = async (outage: unknown): Promise<{ value: T; degraded: boolean }> => {
    const stale = await read.fallback();
    if (stale === null) {
      if (outage !== undefined) throw outage;
      return { value: await primary, degraded: false };
    }
    markDegraded("d1", read.fallbackName);
    return { value: stale, degraded: true };
  };
  let quick: Awaited<T> | undefined;
  try {
    quick = await within(read.budgetMs, primary);
  } catch (error) {
    if (!isDatabaseOutage(error)) throw error;
    return useFallback(error);
  }
  if (quick !== undefined) return { value: quick, degraded: false };
  return useFallback(undefined);
}
