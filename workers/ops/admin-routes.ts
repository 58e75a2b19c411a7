import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { overview } from "./overview";

const OverviewSchema = z
  .object({
    since: z.string().openapi({ description: "Midnight UTC: 'today' starts here" }),
    orders_today: z.number().int(),
    revenue_today: z.array(
      z.object({
        currency: z.string(),
        orders: z.number().int(),
        gross: z.number().int().openapi({ description: "Minor units" }),
        refunded: z.number().int(),
        net: z.number().int(),
      }),
    ),
    dead_letters_pending: z.number().int().openapi({ description: "Dead letters not yet replayed" }),
    circuits: z.record(
      z.string(),
      z.object({
        state: z.enum(["closed", "open", "half_open"]),
        failures: z.number().int(),
        retry_after_ms: z.number().int(),
      }),
    ),
  })
  .openapi("AdminOverview");

const get = createRoute({
  method: "get",
  path: "/admin/api/overview",
  tags: ["Admin: operations"],
  summary: "Today's orders and revenue, dead letters awaiting replay, circuit breakers",
  description: "Circuit states are those of the isolate that answers (each isolate keeps its own breakers).",
  security: [{ adminToken: [] }],
  middleware: [requireScope("orders:read")] as const,
  responses: {
    200: { description: "The overview", content: { "application/json": { schema: OverviewSchema } } },
    ...problemResponses(401, 403),
  },
});

/** `GET /admin/api/overview`: what the console's dashboard shows. */
export const opsAdminRoutes = createRouter().openapi(get, async (c) => {
  c.header("cache-control", "no-store");
  return c.json(await overview(c.env), 200);
});
