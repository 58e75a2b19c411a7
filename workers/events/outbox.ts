import { and, asc, isNull, lt, sql } from "drizzle-orm";
import { type Database, database } from "../../db/client";
import { outbox } from "../../db/schema";
import { describeError, log } from "../lib/logging";
import { type EventEnvelope, type EventQueue, queueBinding } from "./envelope";

/** Queues accept at most 100 messages per `sendBatch`. */
const SEND_BATCH_LIMIT = 100;

/**
 * `id IN (…)` as ONE bound parameter: D1 allows at most 100 bound parameters per query, so
 * a list of ids is passed as JSON and expanded with `json_each`.
 */
const idIn = (ids: readonly string[]) =>
  sql`${outbox.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;

/**
 * The outbox row for `event`, to put in the same `db.batch([...])` as the state change,
 * so the change and its event commit (or fail) together.
 */
export function outboxInsert(db: Database, queue: EventQueue, event: EventEnvelope, aggregateId: string) {
  return db.insert(outbox).values({
    id: event.id,
    queue,
    type: event.type,
    aggregateId,
    payload: JSON.stringify(event),
    createdAt: Date.parse(event.occurred_at),
  });
}

/**
 * Sends the given outbox rows to their queues and marks them sent. Call it right after the
 * batch commits (often in `waitUntil`). A failure here is logged and left to the sweeper:
 * the rows stay unsent, never lost.
 */
export async function publishOutbox(env: Env, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const db = database(env.DB);
  const rows = await db
    .select()
    .from(outbox)
    .where(and(idIn(ids), isNull(outbox.sentAt)))
    .orderBy(asc(outbox.createdAt));
  return sendRows(env, db, rows);
}

export interface SweepOptions {
  /** Only rows older than this are swept, so the sweeper rarely races the inline publish. */
  minAgeMs?: number;
  limit?: number;
  now?: number;
}

/** Cron sweeper: re-sends rows that were written but never marked sent. */
export async function sweepOutbox(
  env: Env,
  opts: SweepOptions = {},
): Promise<{ sent: number; pending: number }> {
  const now = opts.now ?? Date.now();
  const db = database(env.DB);
  const rows = await db
    .select()
    .from(outbox)
    .where(and(isNull(outbox.sentAt), lt(outbox.createdAt, now - (opts.minAgeMs ?? 30_000))))
    .orderBy(asc(outbox.createdAt))
    .limit(opts.limit ?? 500);
  const sent = await sendRows(env, db, rows);
  return { sent, pending: rows.length - sent };
}

type OutboxRow = typeof outbox.$inferSelect;

async function sendRows(env: Env, db: Database, rows: OutboxRow[]): Promise<number> {
  let sent = 0;
  const byQueue = new Map<EventQueue, OutboxRow[]>();
  for (const row of rows) {
    const list = byQueue.get(row.queue as EventQueue) ?? [];
    list.push(row);
    byQueue.set(row.queue as EventQueue, list);
  }
  for (const [queue, queued] of byQueue) {
    for (let i = 0; i < queued.length; i += SEND_BATCH_LIMIT) {
      const chunk = queued.slice(i, i + SEND_BATCH_LIMIT);
      const ids = chunk.map((row) => row.id);
      try {
        await queueBinding(env, queue).sendBatch(
          chunk.map((row) => ({ body: JSON.parse(row.payload) as unknown, contentType: "json" as const })),
        );
        await db.update(outbox).set({ sentAt: Date.now() }).where(idIn(ids));
        sent += chunk.length;
      } catch (error) {
        log("warn", "outbox_send_failed", { queue, count: chunk.length, ...describeError(error) });
        const message = error instanceof Error ? error.message : String(error);
        await db
          .update(outbox)
          .set({ lastError: message.slice(0, 500), sendAttempts: sql`${outbox.sendAttempts} + 1` })
          .where(idIn(ids));
      }
    }
  }
  return sent;
}
