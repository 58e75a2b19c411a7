import { createRoute } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { ApiError, problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { decodeCursor, encodeCursor, problemResponses } from "../lib/schemas";
import { type DeadLetterRow, listDeadLetters, replayDeadLetter } from "./dead-letters";
import {
  DeadLetterCursor,
  DeadLetterIdParam,
  DeadLetterListQuery,
  DeadLetterListSchema,
  DeadLetterSchema,
  ReplayBody,
} from "./schemas";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toDeadLetter(row: DeadLetterRow) {
  return {
    id: row.id,
    event_id: row.eventId,
    queue: row.queue,
    consumer: row.consumer,
    type: row.type,
    error: row.error,
    attempts: row.attempts,
    failed_at: new Date(row.failedAt).toISOString(),
    replayed_at: iso(row.replayedAt),
    replay_count: row.replayCount,
    event: JSON.parse(row.payload) as unknown,
  };
}

const list = createRoute({
  method: "get",
  path: "/dead-letters",
  tags: ["Admin: events"],
  summary: "List dead-lettered events with why they failed",
  security: [{ adminToken: [] }],
  middleware: [requireScope("orders:read")] as const,
  request: { query: DeadLetterListQuery },
  responses: {
    200: {
      description: "Dead letters, newest first",
      content: { "application/json": { schema: DeadLetterListSchema } },
    },
    ...problemResponses(401, 403, 422),
  },
});

const replay = createRoute({
  method: "post",
  path: "/dead-letters/{id}/replay",
  tags: ["Admin: events"],
  summary: "Send a dead-lettered event back to its queue",
  security: [{ adminToken: [] }],
  middleware: [requireScope("events:write")] as const,
  request: {
    params: DeadLetterIdParam,
    body: { content: { "application/json": { schema: ReplayBody } }, required: false },
  },
  responses: {
    202: { description: "Replayed", content: { "application/json": { schema: DeadLetterSchema } } },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

/** Admin view of the event pipeline: `/admin/api/events/...`. */
export const eventAdminRoutes = createRouter()
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    let after: { failedAt: number; id: string } | undefined;
    if (query.cursor) {
      const decoded = decodeCursor(query.cursor, DeadLetterCursor);
      if (!decoded) throw problems.validation([{ path: "query.cursor", message: "Invalid cursor" }]);
      after = { failedAt: decoded.f, id: decoded.i };
    }
    const rows = await listDeadLetters(c.env, {
      ...(query.queue ? { queue: query.queue } : {}),
      includeReplayed: query.include_replayed,
      limit: query.limit + 1,
      ...(after ? { after } : {}),
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const nextCursor =
      rows.length > query.limit && last ? encodeCursor({ f: last.failedAt, i: last.id }) : null;
    return c.json({ data: page.map(toDeadLetter), next_cursor: nextCursor }, 200);
  })
  .openapi(replay, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json") as { force?: boolean } | undefined;
    const result = await replayDeadLetter(c.env, id, body?.force ?? false);
    if (!result.ok) {
      if (result.reason === "not_found") throw problems.notFound("Dead letter", "dead_letter_not_found");
      if (result.reason === "already_replayed")
        throw problems.conflict(
          "already_replayed",
          "This dead letter was already replayed; pass force: true to replay again.",
        );
      throw new ApiError(409, "unknown_queue", "Conflict", {
        detail: "The dead letter's source queue is not bound.",
      });
    }
    return c.json(toDeadLetter(result.deadLetter), 202);
  });
