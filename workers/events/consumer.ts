import { and, eq } from "drizzle-orm";
import type { z } from "zod";
import { type Database, database, inJsonList } from "../../db/client";
import { processedEvents } from "../../db/schema";
import { describeError, log } from "../lib/logging";
import { type MetricsSink, metricsFor } from "../lib/metrics";
import { type DeadLetterEnvelope, EventEnvelopeSchema, type EventQueue } from "./envelope";
import { type EventType, judgeEventVersion, NEWER_EVENT_RETRY_SECONDS } from "./versions";

/**
 * Thrown by a handler that cannot apply an event *yet* (e.g. `order.paid` before the
 * `order.placed` it depends on): the message is retried later instead of failing.
 */
export class RetryLater extends Error {
  constructor(
    reason: string,
    readonly delaySeconds?: number,
  ) {
    super(reason);
    this.name = "RetryLater";
  }
}

export interface HandlerContext {
  /** 1 on first delivery. */
  attempts: number;
  /**
   * The `processed_events` insert for this event. A handler whose effect is a D1 write puts
   * it in the same batch, making "applied" and "marked processed" one atomic step. Calling it
   * hands the mark to the handler: the consumer then records nothing itself, so a handler
   * that takes it must run it (or throw).
   */
  markProcessed: () => ProcessedInsert;
  /**
   * Scratch space the handlers of one delivered batch share (e.g. a row one event just wrote
   * that the next event starts from). Gone with the batch: never a cache across batches.
   */
  batchScratch: Map<string, unknown>;
}

/** The bindings every consumer needs, whichever worker it runs in. */
export interface ConsumerEnv {
  DB: D1Database;
  DEAD_LETTERS: Queue;
  METRICS?: MetricsSink;
  CF_VERSION_METADATA?: WorkerVersionMetadata;
}

export interface ConsumerOptions<E, TEnv extends ConsumerEnv = Env> {
  /** Stable consumer name: the de-duplication scope in `processed_events`. */
  name: string;
  /** Queue this consumer reads, recorded on dead letters so replay knows where to send. */
  queue: EventQueue;
  /** Event types this consumer handles; their accepted versions come from `EVENT_VERSIONS`. */
  types: readonly EventType[];
  schema: z.ZodType<E>;
  handle: (event: E, env: TEnv, ctx: HandlerContext) => Promise<void>;
  /** Deliveries before a message is dead-lettered (default 5); may read the env. */
  maxAttempts?: number | ((env: TEnv) => number);
  /** First retry delay; doubles per attempt, capped at 5 minutes (default 2 s). */
  baseDelaySeconds?: number;
}

const MAX_DELAY_SECONDS = 300;

function processedInsert(db: Database, consumer: string, eventId: string) {
  return db
    .insert(processedEvents)
    .values({ consumer, eventId, processedAt: Date.now() })
    .onConflictDoNothing();
}
export type ProcessedInsert = ReturnType<typeof processedInsert>;

/** The ids among `messages` that `consumer` has recorded in `processed_events`: one query. */
async function processedAmong(
  db: Database,
  consumer: string,
  messages: readonly Message<unknown>[],
): Promise<Set<string>> {
  const ids = messages.flatMap((message) => {
    const id = (message.body as { id?: unknown } | null)?.id;
    return typeof id === "string" ? [id] : [];
  });
  const rows = await db
    .select({ eventId: processedEvents.eventId })
    .from(processedEvents)
    .where(and(eq(processedEvents.consumer, consumer), inJsonList(processedEvents.eventId, ids)));
  return new Set(rows.map((row) => row.eventId));
}

export function backoffSeconds(attempts: number, base: number): number {
  return Math.min(MAX_DELAY_SECONDS, base * 2 ** Math.max(0, attempts - 1));
}

/**
 * A queue handler with per-message ack/retry (one bad message never retries its batch),
 * de-duplication by event id, exponential backoff, and dead-lettering with the reason.
 */
export function createConsumer<E, TEnv extends ConsumerEnv = Env>(opts: ConsumerOptions<E, TEnv>) {
  const baseDelay = opts.baseDelaySeconds ?? 2;

  return async function consume(batch: MessageBatch<unknown>, env: TEnv): Promise<void> {
    const db = database(env.DB);
    const source = { queue: opts.queue, consumer: opts.name };
    const maxAttempts =
      typeof opts.maxAttempts === "function" ? opts.maxAttempts(env) : (opts.maxAttempts ?? 5);
    const outcomes = { processed: 0, retried: 0, dead_lettered: 0 };
    let maxLagMs = 0;
    // Which of the batch's events this consumer already applied: one query for the batch,
    // made when the first well-formed event needs it.
    let seen: Set<string> | undefined;
    const batchScratch = new Map<string, unknown>();
    // Sequential on purpose: events for the same aggregate keep their batch order.
    for (const message of batch.messages) {
      maxLagMs = Math.max(maxLagMs, Date.now() - message.timestamp.getTime());
      const verdict = judgeEventVersion(message.body, opts.types);
      if (verdict.action === "retry") {
        outcomes[
          await retryOrDeadLetter(
            env,
            source,
            message,
            new RetryLater(verdict.reason, NEWER_EVENT_RETRY_SECONDS),
            { maxAttempts, baseDelaySeconds: baseDelay },
          )
        ]++;
        continue;
      }
      if (verdict.action === "dead_letter") {
        await deadLetterMessage(env, source, message, verdict.reason);
        message.ack();
        outcomes.dead_lettered++;
        continue;
      }
      const envelope = EventEnvelopeSchema.safeParse(message.body);
      const parsed = envelope.success ? opts.schema.safeParse(message.body) : envelope;
      if (!parsed.success) {
        // A message that cannot parse will never parse: dead-letter it at once.
        await deadLetterMessage(
          env,
          source,
          message,
          `invalid event: ${parsed.error.issues[0]?.message ?? "schema"}`,
        );
        message.ack();
        outcomes.dead_lettered++;
        continue;
      }
      const eventId = (message.body as { id: string }).id;
      seen ??= await processedAmong(db, opts.name, batch.messages);
      if (seen.has(eventId)) {
        message.ack();
        continue;
      }
      // A handler that takes the mark commits it with its own write; otherwise it is ours.
      let markTaken = false;
      const markProcessed = () => {
        markTaken = true;
        return processedInsert(db, opts.name, eventId);
      };
      try {
        await opts.handle(parsed.data, env, { attempts: message.attempts, markProcessed, batchScratch });
        if (!markTaken) await processedInsert(db, opts.name, eventId);
        // The same event twice in one batch is applied once.
        seen.add(eventId);
        message.ack();
        outcomes.processed++;
      } catch (error) {
        outcomes[
          await retryOrDeadLetter(env, source, message, error, { maxAttempts, baseDelaySeconds: baseDelay })
        ]++;
      }
    }
    const metrics = metricsFor(env);
    for (const [outcome, count] of Object.entries(outcomes)) {
      if (count > 0)
        metrics.queue({
          queue: opts.queue,
          outcome: outcome as keyof typeof outcomes,
          count,
          lagMs: maxLagMs,
        });
    }
  };
}

/** Identifies a consumer on the dead letters it produces, so replay knows where to send. */
export interface ConsumerSource {
  queue: EventQueue;
  consumer: string;
}

/**
 * Forwards a message that will not succeed to the dead-letter queue with why, for the admin
 * view and replay. Every consumer (generic or domain-specific) dead-letters through this.
 */
export async function deadLetterMessage(
  env: Pick<ConsumerEnv, "DEAD_LETTERS">,
  source: ConsumerSource,
  message: Message<unknown>,
  error: string,
): Promise<void> {
  const envelope: DeadLetterEnvelope = {
    kind: "dead_letter",
    source_queue: source.queue,
    consumer: source.consumer,
    error: error.slice(0, 1000),
    attempts: message.attempts,
    failed_at: new Date().toISOString(),
    event: message.body,
  };
  log("error", "event_dead_lettered", { consumer: source.consumer, attempts: message.attempts, error });
  await env.DEAD_LETTERS.send(envelope, { contentType: "json" });
}

/**
 * The failure path every consumer shares: retry with exponential backoff until the attempts
 * are used, then dead-letter with the reason (and ack, so the platform does not retry it).
 * Returns what happened, for metrics.
 */
export async function retryOrDeadLetter(
  env: Pick<ConsumerEnv, "DEAD_LETTERS">,
  source: ConsumerSource,
  message: Message<unknown>,
  error: unknown,
  policy: { maxAttempts: number; baseDelaySeconds: number },
): Promise<"retried" | "dead_lettered"> {
  const reason = error instanceof Error ? error.message : String(error);
  if (message.attempts >= policy.maxAttempts) {
    await deadLetterMessage(env, source, message, reason);
    message.ack();
    return "dead_lettered";
  }
  const delaySeconds =
    error instanceof RetryLater && error.delaySeconds !== undefined
      ? error.delaySeconds
      : backoffSeconds(message.attempts, policy.baseDelaySeconds);
  log(error instanceof RetryLater ? "info" : "warn", "event_retry", {
    consumer: source.consumer,
    message_id: message.id,
    attempts: message.attempts,
    delay_seconds: delaySeconds,
    ...describeError(error),
  });
  message.retry({ delaySeconds });
  return "retried";
}
