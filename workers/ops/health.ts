import type { ServerTiming } from "../lib/server-timing";
import { paymentConfiguration } from "../payments/configuration";

interface Check {
  ok: boolean;
  latency_ms: number;
  error?: string;
}

async function timed(probe: () => Promise<unknown>): Promise<Check> {
  const started = performance.now();
  try {
    await probe();
    return { ok: true, latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      ok: false,
      latency_ms: Math.round(performance.now() - started),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/**
 * Probes each binding the request paths depend on, with a cheap read each; the probes also
 * show up in the response's `Server-Timing` when a `timing` is given.
 */
export async function checkBindings(env: Env, timing?: ServerTiming): Promise<Record<string, Check>> {
  const measure = <T>(name: string, probe: () => Promise<T>) =>
    timing ? timing.measure(name, probe) : probe();
  const [d1, kv] = await Promise.all([
    timed(() => measure("d1", () => env.DB.prepare("select 1").first())),
    timed(() => measure("kv", () => env.CATALOG_KV.get("health:probe"))),
  ]);
  const bound = (value: unknown): Check => ({
    ok: value !== undefined && value !== null,
    latency_ms: 0,
    ...(value ? {} : { error: "binding missing" }),
  });
  const payments = paymentConfiguration(env);
  return {
    d1,
    kv,
    payments: { ok: payments.ok, latency_ms: 0, ...(payments.ok ? {} : { error: payments.reason }) },
    cart_objects: bound(env.CART),
    inventory_objects: bound(env.INVENTORY),
    catalog_events_queue: bound(env.CATALOG_EVENTS),
    assets: bound(env.ASSETS),
  };
}
