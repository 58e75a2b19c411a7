import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** A drizzle client over the D1 binding, typed with the whole schema. */
export const database = (db: D1Database) => drizzle(db, { schema });
export type Database = ReturnType<typeof database>;
