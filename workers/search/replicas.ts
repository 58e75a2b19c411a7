import type { ReplicaSearchResult, ReplicaStatus } from "../../durable-objects/search-replica";
import type { ServerTiming } from "../lib/server-timing";
import { prepareQuery } from "./query";
import { presentResult, readCursor, type SearchInput, type SearchResult, selectionsOf } from "./service";

/** Replicas when `SEARCH_REPLICAS` is unset or not a number. */
const DEFAULT_REPLICAS = 2;

/** `SEARCH_REPLICAS`; 0 turns the replicas off (every search runs on D1). */
export const replicaCount = (env: Env): number => {
  const n = Number.parseInt(env.SEARCH_REPLICAS, 10);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_REPLICAS;
};

const replica = (env: Env, index: number) => env.SEARCH_REPLICA.getByName(`search-replica-${index}`);

/** FNV-1a: the same text always goes to the same replica, whose match cache then holds it. */
function pick(key: string, replicas: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % replicas;
}

/**
 * Searches one replica: the vocabulary lookups (typos, prefixes) and category names in one D1
 * batch of index probes, then the replica filters, sorts and counts facets from memory.
 * Returns null when the chosen replica is still catching up on a backlog, or replicas are
 * off; the caller then answers from D1 (`searchProducts`).
 */
export async function searchReplica(
  env: Env,
  input: SearchInput,
  generation: string,
  timing?: Pick<ServerTiming, "measure">,
): Promise<SearchResult | null> {
  const replicas = replicaCount(env);
  if (replicas === 0) return null;
  const measure = <T>(name: string, fn: () => Promise<T>) => (timing ? timing.measure(name, fn) : fn());
  const { print, after } = readCursor(input);
  const db = env.DB;
  const prepared = prepareQuery(db, input.q);
  const batch = await measure("d1", () =>
    db.batch([...prepared.statements, db.prepare("SELECT slug, name FROM categories")]),
  );
  const parsed = prepared.finish(batch);
  const categories = (batch[batch.length - 1]?.results ?? []) as { slug: string; name: string }[];
  const range: [number, number] | null =
    input.min_price !== undefined || input.max_price !== undefined
      ? [input.min_price ?? 0, input.max_price ?? Number.MAX_SAFE_INTEGER]
      : null;
  const selections = selectionsOf(input);
  const key = parsed.match ?? JSON.stringify([input.category, input.brand, input.sort]);
  // RPC's typing of a union with tuples does not survive the stub; the object returns exactly this.
  const found = await measure(
    "replica",
    async (): Promise<ReplicaSearchResult> =>
      replica(env, pick(key, replicas)).search({
        sort: input.sort,
        currency: input.currency,
        take: input.limit + 1,
        after,
        selections,
        range,
        match: parsed.match,
        generation,
      }) as Promise<ReplicaSearchResult>,
  );
  if (!found.ok) return null;
  const counts = new Map<string, Map<string, number>>();
  for (const [facet, value, count] of found.counts) {
    let values = counts.get(facet);
    if (!values) {
      values = new Map();
      counts.set(facet, values);
    }
    values.set(value, count);
  }
  return presentResult({
    input,
    print,
    corrections: parsed.corrections,
    hasText: parsed.match !== null,
    rows: found.rows,
    total: found.total,
    counts,
    categories,
  });
}

/**
 * One catch-up step on every replica (the admin route and the bench call it until all are
 * caught up); a new replica fills itself from D1's index this way, or through its alarm.
 */
export async function syncReplicas(env: Env): Promise<(ReplicaStatus & { replica: number })[]> {
  return Promise.all(
    Array.from({ length: replicaCount(env) }, async (_, index) => ({
      replica: index,
      ...(await replica(env, index).sync()),
    })),
  );
}
