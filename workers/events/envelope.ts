import { z } from "@hono/zod-openapi";
import { newId } from "../lib/ids";

/**
 * Fields every event carries, whatever its domain. Consumers de-duplicate by `id` and pick
 * a schema by `type` + `version`; a consumer of version N also accepts version N-1.
 */
export const EventEnvelopeSchema = z
  .object({
    id: z.string().regex(/^evt_[0-9a-z]{20}$/),
    type: z.string().min(1).max(64),
    version: z.number().int().positive(),
    occurred_at: z.string().datetime(),
  })
  .passthrough();

export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/** Stamps a new event with its envelope fields. */
export function newEvent<T extends { type: string; version: number }>(body: T, now = Date.now()) {
  return { id: newId("evt"), occurred_at: new Date(now).toISOString(), ...body };
}

/** Producer bindings that carry events; the outbox records which one each event goes to. */
export const EVENT_QUEUES = ["ORDER_EVENTS", "CATALOG_EVENTS", "INVENTORY_EVENTS"] as const;
export type EventQueue = (typeof EVENT_QUEUES)[number];

export function queueBinding(env: Record<EventQueue, Queue>, queue: EventQueue): Queue {
  return env[queue];
}

/**
 * What a consumer forwards to the dead-letter queue once a message has used its attempts:
 * the event plus why it failed (the platform's own DLQ hand-off carries no reason).
 */
export const DeadLetterEnvelopeSchema = z.object({
  kind: z.literal("dead_letter"),
  source_queue: z.enum(EVENT_QUEUES),
  consumer: z.string(),
  error: z.string(),
  attempts: z.number().int(),
  failed_at: z.string().datetime(),
  event: z.unknown(),
});
export type DeadLetterEnvelope = z.infer<typeof DeadLetterEnvelopeSchema>;
