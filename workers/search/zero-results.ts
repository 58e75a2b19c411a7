import { normaliseQuery } from "./text";

/** Longest raw example stored per normalised query. */
const MAX_EXAMPLE_LENGTH = 200;

/**
 * Counts one zero-result search under its normalised form. Called fire-and-forget
 * (`waitUntil`) after the response is built, so it never adds latency; one upsert statement.
 */
export async function recordZeroResult(db: D1Database, raw: string): Promise<void> {
  const query = normaliseQuery(raw);
  if (!query) return;
  const now = Date.now();
  await db
    .prepare(
      `INSERT INTO search_zero_results (query, count, example, first_seen_at, last_seen_at) VALUES (?1, 1, ?2, ?3, ?3)
       ON CONFLICT(query) DO UPDATE SET count = count + 1, example = excluded.example, last_seen_at = excluded.last_seen_at`,
    )
    .bind(query, raw.slice(0, MAX_EXAMPLE_LENGTH), now)
    .run();
}

export interface ZeroResultQuery {
  query: string;
  count: number;
  example: string;
  first_seen_at: string;
  last_seen_at: string;
}

/** The most frequent zero-result queries, optionally only those seen since `since` (epoch ms). */
export async function topZeroResults(
  db: D1Database,
  limit: number,
  since?: number,
): Promise<ZeroResultQuery[]> {
  const { results } = await db
    .prepare(
      `SELECT query, count, example, first_seen_at, last_seen_at FROM search_zero_results
       WHERE last_seen_at >= ?1 ORDER BY count DESC, query LIMIT ?2`,
    )
    .bind(since ?? 0, limit)
    .all<{ query: string; count: number; example: string; first_seen_at: number; last_seen_at: number }>();
  return results.map((row) => ({
    ...row,
    first_seen_at: new Date(row.first_seen_at).toISOString(),
    last_seen_at: new Date(row.last_seen_at).toISOString(),
  }));
}
