/**
 * The contract for a bench scenario: one file in `bench/scenarios/` that default-exports
 * `defineScenario({...})`. The runner starts the server, calls `setup` once, warms up with
 * the same requests, measures, then calls `summarize` and `teardown`.
 *
 * @typedef {object} BenchRequest
 * @property {string} path path and query, e.g. "/api/products/some-slug?currency=EUR"
 * @property {string} [method] default "GET"
 * @property {Record<string, string>} [headers]
 * @property {string} [body]
 *
 * @typedef {object} BenchCatalog what the seeded catalog contains, to build requests from
 * @property {string[]} productSlugs slugs of active products, in seed order
 * @property {string[]} categorySlugs every category slug (roots and leaves)
 * @property {string[]} skus SKUs of active products' variants
 * @property {{ productId: string, slug: string, sku: string, onHand: number }} flashSale the flash-sale product
 * @property {Map<string, number>} stockPlan SKU → on_hand the inventory domain may apply in `setup`
 *
 * @typedef {object} BenchContext
 * @property {URL} url base URL of the server under test (127.0.0.1, random port)
 * @property {(path: string, init?: RequestInit) => Promise<Response>} fetch fetch against `url`
 * @property {string} adminToken full-scope admin bearer token (ADMIN_TOKEN from .dev.vars.example)
 * @property {BenchCatalog} catalog
 * @property {import("miniflare").Miniflare} mf direct binding access, e.g. `mf.getD1Database("DB")`
 * @property {{ shoppers: number, stock: number, soakSeconds: number }} options crowd and soak sizes (`--shoppers`, `--stock`, `--soak-seconds`)
 * @property {number | null} ceilingRps the same run's `empty` requests/s (null before it ran)
 * @property {number | null} ceilingCpuMs workerd CPU milliseconds per `empty` request, same run (null off Linux)
 *
 * @typedef {object} Scenario
 * @property {string} name kebab-case; used by `--only` and printed as `scenario`
 * @property {string} description one line: what is measured
 * @property {number} [connections] concurrent connections (default from the runner, 8)
 * @property {number} [duration] measured seconds (default from the runner, 6)
 * @property {boolean} [readsOnly] it creates no carts, orders or stock changes: it runs right
 *   after the ceiling, in the state of the runtime the ceiling was measured in (bench/run.mjs)
 * @property {boolean} [last] it runs after every other scenario (the soak: it wakes the most objects)
 * @property {(ctx: BenchContext) => Promise<unknown> | unknown} [setup] once before warm-up; the result is `state`
 * @property {(ctx: BenchContext, state: unknown) => Promise<Record<string, unknown>>} [run] for load that is not a
 *   stream of independent requests (a storm of shoppers, a minutes-long mix): drives the server
 *   itself and returns the scenario's JSON fields; `requests` and `summarize` are then unused
 * @property {(ctx: BenchContext, state: unknown) => () => BenchRequest} [requests] returns the
 *   request source: called for every request the load generator sends (all connections share it)
 * @property {(ctx: BenchContext, state: unknown) => Promise<Record<string, unknown>> | Record<string, unknown>} [summarize]
 *   after the measured run: extra fields merged into the scenario's JSON line (e.g. `oversold: 0`)
 * @property {(ctx: BenchContext, state: unknown) => Promise<void> | void} [teardown]
 */

/**
 * Identity helper so scenario files get editor type checking.
 * @param {Scenario} scenario
 * @returns {Scenario}
 */
export const defineScenario = (scenario) => scenario;

/**
 * Round-robin over a list, the usual way scenarios spread load across keys.
 * @template T
 * @param {readonly T[]} items
 * @returns {() => T}
 */
export function cycle(items) {
  if (items.length === 0) throw new Error("cycle() needs at least one item");
  let index = 0;
  return () => items[index++ % items.length];
}

/**
 * Requests every path once (a few at a time) so a scenario measures the steady state, with
 * KV projections and caches populated, rather than first-touch misses. Use it in `setup`.
 * @param {BenchContext} ctx
 * @param {readonly string[]} paths
 * @param {number} [concurrency]
 */
export async function warmAll(ctx, paths, concurrency = 4) {
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++];
      const res = await ctx.fetch(path);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * A deterministic pseudo-random source in [0, 1) (mulberry32), so runs are comparable.
 * @param {number} seed
 * @returns {() => number}
 */
export function seededRandom(seed) {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Picks items with Zipf-like popularity (the item at rank r is drawn in proportion to 1/r),
 * the shape real search and product traffic has: a few popular keys, a long tail.
 * @template T
 * @param {readonly T[]} items most popular first
 * @param {number} [seed]
 * @returns {() => T}
 */
export function zipf(items, seed = 1) {
  if (items.length === 0) throw new Error("zipf() needs at least one item");
  const cumulative = [];
  let sum = 0;
  for (let rank = 1; rank <= items.length; rank++) {
    sum += 1 / rank;
    cumulative.push(sum);
  }
  const random = seededRandom(seed);
  return () => {
    const target = random() * sum;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid] < target) low = mid + 1;
      else high = mid;
    }
    return items[low];
  };
}
