import { and, asc, isNull, lt, sql } from "drizzle-orm";
import { type Database, database, inJsonList } from "../../db/client";
import { deadLetters, outbox } from "../../db/schema";
import { describeError, log } from "../lib/logging";
import { type EventEnvelope, type EventQueue, queueBinding } from "./envelope";
import { planBatches, type Unsendable } from "./outbox-batches";

/** `outbox.id IN (…ids)`, any number of them (see `inJsonList`). */
const idIn = (ids: readonly string[]) => inJsonList(outbox.id, ids);

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
  return sendRows(env, db, rows, "mark");
}

/**
 * Sends outbox rows this call has just written (their content known, so not read back) and
 * marks them sent. Same failure rule as {@link publishOutbox}: unsent rows wait for the sweeper.
 */
export function publishWrittenOutbox(env: Env, rows: OutboxRow[]): Promise<number> {
  return sendRows(env, database(env.DB), rows, "mark");
}

/**
 * Sends rows that were written already claimed (`sent_at` set in their own batch) by a writer
 * that re-runs until this returns: a checkout's completion, whose intent and alarm outlive a
 * crash between the batch and the send. Sent, nothing more is written (that is the saving: no
 * sent mark per order). Not sent, the claim is given up (`sent_at` cleared) so the sweeper takes
 * them; if even that write fails this throws, and the writer's re-run sends them again.
 */
export function publishClaimedOutbox(env: Env, rows: OutboxRow[]): Promise<number> {
  return sendRows(env, database(env.DB), rows, "claimed");
}

/**
 * Sends outbox rows again by id, whatever their state: a re-run of a claimed write that may have
 * died before its send. Duplicates are harmless (every consumer is idempotent by event id); rows
 * the sweeper owns (`sent_at` null) are marked sent as usual.
 */
export async function republishOutbox(env: Env, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const db = database(env.DB);
  const rows = await db.select().from(outbox).where(idIn(ids)).orderBy(asc(outbox.createdAt));
  const unowned = rows.filter((row) => row.sentAt === null);
  const claimed = rows.filter((row) => row.sentAt !== null);
  return (await sendRows(env, db, unowned, "mark")) + (await sendRows(env, db, claimed, "claimed"));
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
  const sent = await sendRows(env, db, rows, "mark");
  return { sent, pending: rows.length - sent };
}

export type OutboxRow = typeof outbox.$inferSelect;

/**
 * `mark`: rows the sweeper owns until they are marked sent here. `claimed`: rows written with
 * `sent_at` already set by a writer that re-runs (see `publishClaimedOutbox`); a failed send
 * clears the claim instead, and that write failing is thrown rather than logged.
 */
type SendMode = "mark" | "claimed";

async function sendRows(env: Env, db: Database, rows: OutboxRow[], mode: SendMode): Promise<number> {
  let sent = 0;
  const byQueue = new Map<EventQueue, OutboxRow[]>();
  for (const row of rows) {
    const list = byQueue.get(row.queue as EventQueue) ?? [];
    list.push(row);
    byQueue.set(row.queue as EventQueue, list);
  }
  for (const [queue, queued] of byQueue) {
    const { batches, unsendable } = planBatches(queued, (row) => row.payload);
    await deadLetterUnsendable(db, queue, unsendable);
    for (const batch of batches) {
      const chunk = batch.map(({ item }) => item);
      const ids = chunk.map((row) => row.id);
      try {
        await queueBinding(env, queue).sendBatch(
          chunk.map((row) => ({ body: JSON.parse(row.payload) as unknown, contentType: "json" as const })),
        );
        if (mode === "mark") await db.update(outbox).set({ sentAt: Date.now() }).where(idIn(ids));
        sent += chunk.length;
      } catch (error) {
        log("warn", "outbox_send_failed", { queue, count: chunk.length, ...describeError(error) });
        const message = error instanceof Error ? error.message : String(error);
        await db
          .update(outbox)
          .set({
            lastError: message.slice(0, 500),
            sendAttempts: sql`${outbox.sendAttempts} + 1`,
            ...(mode === "claimed" ? { sentAt: null } : {}),
          })
          .where(idIn(ids));
      }
    }
  }
  return sent;
}

/**
 * Events the queue can never accept go to the dead letters with the reason (where the admin
 * API lists them) and leave the outbox, so the events behind them keep flowing.
 */
async function deadLetterUnsendable(db: Database, queue: EventQueue, rows: Unsendable<OutboxRow>[]) {
  if (rows.length === 0) return;
  const now = Date.now();
  for (const { item: row, reason } of rows) {
    log("error", "outbox_event_dead_lettered", { event_id: row.id, queue, type: row.type, reason });
    await db.batch([
      db
        .insert(deadLetters)
        .values({
          id: `dl_outbox_${row.id}`.slice(0, 80),
          eventId: row.id,
          queue,
          consumer: "outbox",
          type: row.type,
          payload: row.payload,
          error: reason,
          attempts: row.sendAttempts,
          failedAt: now,
        })
        .onConflictDoNothing(),
      db
        .update(outbox)
        .set({ sentAt: now, lastError: `dead-lettered: ${reason}` })
        .where(idIn([row.id])),
    ]);
  }
}
