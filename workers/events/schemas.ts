import { z } from "@hono/zod-openapi";
import { PaginationQuery } from "../lib/schemas";
import { EVENT_QUEUES } from "./envelope";

export const DeadLetterSchema = z
  .object({
    id: z.string(),
    event_id: z.string().nullable(),
    queue: z.string(),
    consumer: z.string(),
    type: z.string().nullable(),
    error: z.string().openapi({ description: "Why the last attempt failed" }),
    attempts: z.number().int(),
    failed_at: z.string().datetime(),
    replayed_at: z.string().datetime().nullable(),
    replay_count: z.number().int(),
    event: z.unknown().openapi({ description: "The event as it was delivered" }),
  })
  .openapi("DeadLetter");

export const DeadLetterListSchema = z
  .object({ data: z.array(DeadLetterSchema), next_cursor: z.string().nullable() })
  .openapi("DeadLetterList");

export const DeadLetterListQuery = PaginationQuery.extend({
  queue: z.enum(EVENT_QUEUES).optional(),
  include_replayed: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});

export const DeadLetterCursor = z.object({ f: z.number().int(), i: z.string() });

export const ReplayBody = z
  .strictObject({
    force: z.boolean().default(false).openapi({ description: "Replay even if replayed before" }),
  })
  .default({ force: false });

export const DeadLetterIdParam = z.object({ id: z.string().min(1).max(100) });
