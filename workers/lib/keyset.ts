import { and, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/**
 * The keyset condition for "newest first" lists ordered by `(time DESC, id DESC)`: rows
 * strictly after the cursor's `(time, id)`. The id breaks ties, so pages never skip or repeat
 * rows that share a timestamp. Undefined (no condition) on the first page.
 */
export function olderThan(
  time: SQLiteColumn,
  id: SQLiteColumn,
  after: { time: number; id: string } | null | undefined,
): SQL | undefined {
  return after ? or(lt(time, after.time), and(eq(time, after.time), lt(id, after.id))) : undefined;
}
