import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { paymentProviderFor } from "../payments/provider";
import { cancelOrder, markFulfilment } from "./actions";
import { TrackingSchema } from "./events";
import { restockOrder } from "./restock";
import { OrderIdParam, OrderSchema } from "./schemas";

const FulfilmentRequest = z
  .strictObject({
    status: z.enum(["fulfilling", "shipped", "delivered"]),
    tracking: TrackingSchema.strict()
      .optional()
      .openapi({ description: "Carrier and tracking number, for `shipped`" }),
  })
  .openapi("FulfilmentRequest");

const CancelRequest = z
  .strictObject({ reason: z.string().trim().min(1).max(500).default("cancelled by staff") })
  .openapi("CancelRequest");

const ActionResult = z.object({ order: OrderSchema, changed: z.boolean() }).openapi("OrderActionResult");
const json = { "application/json": { schema: ActionResult } } as const;

const fulfil = createRoute({
  method: "post",
  path: "/admin/api/orders/{id}/fulfilments",
  tags: ["Admin: orders"],
  summary: "Mark an order fulfilling, shipped (with tracking) or delivered",
  description:
    "Transitions follow the order lifecycle; repeating the current status is an idempotent no-op (`changed: false`).",
  security: [{ adminToken: [] }],
  middleware: [requireScope("orders:write")] as const,
  request: {
    params: OrderIdParam,
    body: { content: { "application/json": { schema: FulfilmentRequest } }, required: true },
  },
  responses: {
    200: { description: "Order after the action", content: json },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

const cancel = createRoute({
  method: "post",
  path: "/admin/api/orders/{id}/cancel",
  tags: ["Admin: orders"],
  summary: "Cancel an unshipped order: restock its units and refund its payment, each exactly once",
  security: [{ adminToken: [] }],
  middleware: [requireScope("orders:write")] as const,
  request: {
    params: OrderIdParam,
    body: { content: { "application/json": { schema: CancelRequest } }, required: false },
  },
  responses: {
    200: { description: "Order after the action", content: json },
    ...problemResponses(401, 403, 404, 409, 422, 503),
  },
});

/** Admin lifecycle actions on orders. */
export const orderActionRoutes = createRouter()
  .openapi(fulfil, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    c.get("log").fields.order_id = id;
    return c.json(await markFulfilment(c.env, id, body.status, body.tracking ?? null), 200);
  })
  .openapi(cancel, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json") as { reason?: string } | undefined;
    c.get("log").fields.order_id = id;
    const result = await cancelOrder(
      c.env,
      { provider: paymentProviderFor(c.env), restock: restockOrder },
      id,
      body?.reason ?? "cancelled by staff",
    );
    return c.json(result, 200);
  });
