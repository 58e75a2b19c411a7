import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { database } from "../../db/client";
import { deadLetters } from "../../db/schema";
import { olderThan } from "../lib/keyset";
import { log } from "../lib/logging";
import { DeadLetterEnvelopeSchema, EVENT_QUEUES, type EventQueue, queueBinding } from "./envelope";

const EVENT_PREFIX_QUEUE: Record<string, EventQueue> = {
  inventory: "INVENTORY_EVENTS",
  order: "ORDER_EVENTS",
  fulfilment: "ORDER_EVENTS",
  catalog: "CATALOG_EVENTS",
};

/** Where a raw event (one the platform dead-lettered without our envelope) came from, judged by type. */
function queueForType(type: unknown): EventQueue {
  const prefix = typeof type === "string" ? type.split(".")[0] : undefined;
  return (prefix && EVENT_PREFIX_QUEUE[prefix]) || "ORDER_EVENTS";
}

/**
 * Consumer of the dead-letter queue: records every dead letter in D1 with its reason.
 * Messages arrive either wrapped by our consumers (with the error) or raw from the platform's
 * own `dead_letter_queue` backstop (max_retries exceeded while the consumer was crashing).
 */
export async function recordDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = database(env.DB);
  for (const message of batch.messages) {
    const wrapped = DeadLetterEnvelopeSchema.safeParse(message.body);
    const event = wrapped.success ? wrapped.data.event : message.body;
    const eventObject = (typeof event === "object" && event !== null ? event : {}) as {
      id?: unknown;
      type?: unknown;
    };
    await db
      .insert(deadLetters)
      .values({
        // The queue message id makes a redelivered dead letter land on the same row.
        id: `dl_${message.id}`.slice(0, 80),
        eventId: typeof eventObject.id === "string" ? eventObject.id : null,
        queue: wrapped.success ? wrapped.data.source_queue : queueForType(eventObject.type),
        consumer: wrapped.success ? wrapped.data.consumer : "platform",
        type: typeof eventObject.type === "string" ? eventObject.type : null,
        payload: JSON.stringify(event ?? null),
        error: wrapped.success ? wrapped.data.error : "exceeded the queue's max_retries",
        attempts: wrapped.success ? wrapped.data.attempts : message.attempts,
        failedAt: wrapped.success ? Date.parse(wrapped.data.failed_at) : Date.now(),
      })
      .onConflictDoNothing();
    message.ack();
  }
}

export type DeadLetterRow = typeof deadLetters.$inferSelect;

export interface ListDeadLettersInput {
  queue?: EventQueue;
  includeReplayed: boolean;
  limit: number;
  after?: { failedAt: number; id: string };
}

/** Newest first, keyset-paginated on (failed_at, id). */
export async function listDeadLetters(env: Env, input: ListDeadLettersInput): Promise<DeadLetterRow[]> {
  const db = database(env.DB);
  const conditions = [
    input.queue ? eq(deadLetters.queue, input.queue) : undefined,
    input.includeReplayed ? undefined : isNull(deadLetters.replayedAt),
    olderThan(
      deadLetters.failedAt,
      deadLetters.id,
      input.after && { time: input.after.failedAt, id: input.after.id },
    ),
  ].filter((c) => c !== undefined);
  return db
    .select()
    .from(deadLetters)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(deadLetters.failedAt), desc(deadLetters.id))
    .limit(input.limit);
}

export type ReplayResult =
  | { ok: true; deadLetter: DeadLetterRow }
  | { ok: false; reason: "not_found" | "already_replayed" | "unknown_queue" };

/**
 * Sends a dead letter's event back to its source queue. The event keeps its id, so a
 * consumer that already applied it (e.g. a replay of a replay) treats it as a duplicate.
 */
export async function replayDeadLetter(env: Env, id: string, force: boolean): Promise<ReplayResult> {
  const db = database(env.DB);
  const row = await db.query.deadLetters.findFirst({ where: eq(deadLetters.id, id) });
  if (!row) return { ok: false, reason: "not_found" };
  if (row.replayedAt !== null && !force) return { ok: false, reason: "already_replayed" };
  if (!(EVENT_QUEUES as readonly string[]).includes(row.queue)) return { ok: false, reason: "unknown_queue" };
  await queueBinding(env, row.queue as EventQueue).send(JSON.parse(row.payload), { contentType: "json" });
  const [updated] = await db
    .update(deadLetters)
    .set({ replayedAt: Date.now(), replayCount: sql`${deadLetters.replayCount} + 1` })
    .where(eq(deadLetters.id, id))
    .returning();
  log("info", "dead_letter_replayed", { dead_letter_id: id, queue: row.queue, event_id: row.eventId });
  return { ok: true, deadLetter: updated ?? row };
}
