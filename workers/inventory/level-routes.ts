import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { decodeCursor, encodeCursor, PaginationQuery, problemResponses } from "../lib/schemas";
import { listSkuLevels } from "./levels";
import { SKU_PATTERN } from "./types";

const LevelCursor = z.object({ s: z.string() });

const SkuLevelSchema = z
  .object({
    sku: z.string(),
    on_hand: z.number().int(),
    available: z.number().int(),
    reserved: z.number().int(),
    sold: z.number().int(),
    shards: z.number().int().openapi({ description: "Objects reporting for this SKU" }),
    updated_at: z.string(),
  })
  .openapi("SkuLevel");

const list = createRoute({
  method: "get",
  path: "/admin/api/inventory",
  tags: ["Admin: inventory"],
  summary: "SKUs with stock levels (reporting copy, about a second behind the objects)",
  security: [{ adminToken: [] }],
  middleware: [requireScope("inventory:read")] as const,
  request: {
    query: PaginationQuery.extend({
      q: z.string().max(64).optional().openapi({ description: "SKU prefix" }),
      active: z
        .enum(["true", "false"])
        .optional()
        .openapi({ description: "`true`: only SKUs with units on hold" }),
    }),
  },
  responses: {
    200: {
      description: "A page of SKUs in SKU order",
      content: {
        "application/json": {
          schema: z.object({ data: z.array(SkuLevelSchema), next_cursor: z.string().nullable() }),
        },
      },
    },
    ...problemResponses(401, 403, 422),
  },
});

/** `GET /admin/api/inventory`: which SKUs exist and roughly where they stand. */
export const inventoryLevelRoutes = createRouter().openapi(list, async (c) => {
  const query = c.req.valid("query");
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor, LevelCursor);
  if (query.cursor !== undefined && after === null) {
    throw problems.validation([{ path: "query.cursor", message: "Invalid cursor" }]);
  }
  const prefix = query.q?.trim();
  if (prefix && !SKU_PATTERN.test(prefix)) {
    throw problems.validation([{ path: "query.q", message: "Not a SKU prefix" }]);
  }
  const rows = await listSkuLevels(c.env, {
    ...(prefix ? { prefix } : {}),
    active: query.active === "true",
    ...(after ? { after: after.s } : {}),
    limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  c.header("cache-control", "no-store");
  return c.json(
    { data: page, next_cursor: rows.length > query.limit && last ? encodeCursor({ s: last.sku }) : null },
    200,
  );
});
