import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Transactional outbox: every event is inserted in the SAME D1 batch as the state change it
 * describes, then sent to its queue and marked sent. Rows with `sent_at` null are re-sent by
 * the cron sweeper, so a crash between the D1 write and the queue send loses nothing.
 */
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    /** Producer binding the event goes to, e.g. `ORDER_EVENTS`. */
    queue: text("queue").notNull(),
    type: text("type").notNull(),
    /** Aggregate the event is about (order id, product id …), for ordering and support. */
    aggregateId: text("aggregate_id").notNull(),
    payload: text("payload").notNull(),
    createdAt: integer("created_at").notNull(),
    sentAt: integer("sent_at"),
    sendAttempts: integer("send_attempts").notNull().default(0),
    lastError: text("last_error"),
  },
  (t) => [
    index("outbox_unsent_idx").on(t.sentAt, t.createdAt),
    index("outbox_aggregate_idx").on(t.aggregateId),
  ],
);

/** Consumer-side de-duplication: a (consumer, event) pair is applied at most once. */
export const processedEvents = sqliteTable(
  "processed_events",
  {
    consumer: text("consumer").notNull(),
    eventId: text("event_id").notNull(),
    processedAt: integer("processed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

/** Events that exhausted their retries, with why, so operators can inspect and replay them. */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id"),
    /** Queue the event came from and is replayed to. */
    queue: text("queue").notNull(),
    consumer: text("consumer").notNull(),
    type: text("type"),
    payload: text("payload").notNull(),
    error: text("error").notNull(),
    attempts: integer("attempts").notNull(),
    failedAt: integer("failed_at").notNull(),
    replayedAt: integer("replayed_at"),
    replayCount: integer("replay_count").notNull().default(0),
  },
  (t) => [index("dead_letters_failed_idx").on(t.replayedAt, t.failedAt)],
);
