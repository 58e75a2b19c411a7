import { type Column, type SQL, sql } from "drizzle-orm";
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
