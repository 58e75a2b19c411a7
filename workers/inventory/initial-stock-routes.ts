import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { initialiseStock } from "./service";
import { LIMITS, SKU_PATTERN } from "./types";

const InitialStockBody = z
  .strictObject({
    items: z
      .array(
        z.strictObject({
          sku: z.string().regex(SKU_PATTERN),
          on_hand: z.number().int().min(0).max(LIMITS.maxOnHand),
        }),
      )
      .min(1)
      .max(500),
  })
  .openapi("InitialStock");

const InitialStockResult = z
  .object({ initialised: z.number().int(), skipped: z.number().int() })
  .openapi("InitialStockResult");

const route = createRoute({
  method: "post",
  path: "/admin/api/inventory/initial-stock",
  tags: ["Admin: inventory"],
  summary:
    "Stock up to 500 never-stocked SKUs at once (imports, demo seed); SKUs already stocked are skipped",
  security: [{ adminToken: [] }],
  middleware: [requireScope("inventory:write")] as const,
  request: { body: { content: { "application/json": { schema: InitialStockBody } }, required: true } },
  responses: {
    200: {
      description: "How many SKUs were stocked",
      content: { "application/json": { schema: InitialStockResult } },
    },
    ...problemResponses(401, 403, 422),
  },
});

/** Bulk initial stock: one request per 500 SKUs instead of one per SKU. */
export const initialStockRoutes = createRouter().openapi(route, async (c) =>
  c.json(await initialiseStock(c.env, c.req.valid("json").items), 200),
);
