import { type Column, type SQL, sql } from "drizzle-orm";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

const clients = new WeakMap<D1Database, ReturnType<typeof createClient>>();

const createClient = (db: D1Database) => drizzle(db, { schema });

/**
 * A drizzle client over the D1 binding, typed with the whole schema. One client per binding
 * object: building one walks the whole schema (relations config), which profiling showed
 * costing more than the query itself when done per call.
 */
export function database(db: D1Database): ReturnType<typeof createClient> {
  let client = clients.get(db);
  if (!client) {
    client = createClient(db);
    clients.set(db, client);
  }
  return client;
}
export type Database = ReturnType<typeof database>;

/**
 * `column IN (…values)` as ONE bound parameter: D1 allows at most 100 bound parameters per
 * query, so the list is passed as JSON and expanded with `json_each`, whatever its length.
 */
export const inJsonList = (column: Column, values: readonly string[]): SQL =>
  sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;

/** A drizzle query as `readAfter` prepares it (the same two steps drizzle's own `batch` takes). */
interface PreparableQuery {
  prepare(): {
    getQuery(): { sql: string; params: unknown[] };
    mapResult(result: unknown, isFromBatch?: boolean): unknown;
  };
}

/**
 * Raw `statements`, then drizzle `queries`, in ONE D1 batch: one transaction and one round trip.
 * The queries see the statements' writes, and their results are mapped exactly as drizzle's
 * `batch` maps them. For a write whose caller needs what it wrote (a placed order's view)
 * without a second trip to the primary.
 */
export async function readAfter<T extends readonly [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]>(
  db: D1Database,
  statements: readonly D1PreparedStatement[],
  queries: T,
): Promise<BatchResponse<T>> {
  const prepared = (queries as unknown as readonly PreparableQuery[]).map((query) => query.prepare());
  const reads = prepared.map((query) => {
    const { sql: text, params } = query.getQuery();
    return db.prepare(text).bind(...params);
  });
  const results = await db.batch([...statements, ...reads]);
  return prepared.map((query, i) =>
    query.mapResult(results[statements.length + i], true),
  ) as BatchResponse<T>;
}
