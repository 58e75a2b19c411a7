import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { paymentProviderFor } from "../payments/provider";
import { cancelOrder, markFulfilment } from "./actions";
import { TrackingSchema } from "./events";
import { refundOrder } from "./refunds";
import { restockOrder } from "./restock";
import {
  AdminOrderSchema,
  OrderIdParam,
  OrderListQuerySchema,
  OrderListSchema,
  OrderSchema,
  RefundRequestSchema,
  RefundResponseSchema,
} from "./schemas";
import { getAdminOrder, listOrders } from "./service";

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
const actionResult = { "application/json": { schema: ActionResult } } as const;

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const adminList = createRoute({
  method: "get",
  path: "/admin/api/orders",
  tags: ["Admin: orders"],
  summary: "List orders, newest first",
  security: [{ adminToken: [] }],
  middleware: [requireScope("orders:read")] as const,
  request: { query: OrderListQuerySchema },
  responses: { 200: json(OrderListSchema, "A page of orders"), ...problemResponses(401, 403, 422) },
});

const adminGet = createRoute({
  method: "get",
  path: "/admin/api/orders/{id}",
  tags: ["Admin: orders"],
  summary: "An order with its payments, refunds, status history, events and fulfilment deliveries",
  security: [{ adminToken: [] }],
  middleware: [requireScope("orders:read")] as const,
  request: { params: OrderIdParam },
  responses: { 200: json(AdminOrderSchema, "The order"), ...problemResponses(401, 403, 404) },
});

const adminRefund = createRoute({
  method: "post",
  path: "/admin/api/orders/{id}/refunds",
  tags: ["Admin: orders"],
  summary: "Refund an order fully (no amount) or partially, through its payment provider",
  description:
    "Idempotent: the same `Idempotency-Key` never refunds twice; sent again with a different body (amount, reason) it answers 422 `idempotency_key_reused`. Without one, a key is derived from the order's refund state, so an accidental double submit refunds once.",
  security: [{ adminToken: [] }],
  middleware: [requireScope("orders:write")] as const,
  request: {
    params: OrderIdParam,
    headers: z.object({ "idempotency-key": z.string().min(1).max(255).optional() }),
    body: { content: { "application/json": { schema: RefundRequestSchema } }, required: false },
  },
  responses: {
    200: json(RefundResponseSchema, "Replay of an earlier refund with the same key"),
    201: json(RefundResponseSchema, "Refund issued"),
    ...problemResponses(401, 403, 404, 409, 422, 503),
  },
});

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
    200: { description: "Order after the action", content: actionResult },
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
    200: { description: "Order after the action", content: actionResult },
    ...problemResponses(401, 403, 404, 409, 422, 503),
  },
});

/** The admin orders API: list, read, refund, and lifecycle actions (fulfil, cancel). */
export const orderAdminRoutes = createRouter()
  .openapi(adminList, async (c) => c.json(await listOrders(c.env, c.req.valid("query")), 200))
  .openapi(adminGet, async (c) => {
    const order = await getAdminOrder(c.env, c.req.valid("param").id);
    if (!order) throw problems.notFound("Order", "order_not_found");
    return c.json(order, 200);
  })
  .openapi(adminRefund, async (c) => {
    const { id } = c.req.valid("param");
    // The body is optional: without a JSON content type it validates as `{}` (a full refund).
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    c.get("log").fields.order_id = id;
    const result = await refundOrder(c.env, paymentProviderFor(c.env), {
      orderId: id,
      ...(body.amount ? { amount: body.amount } : {}),
      ...(body.reason ? { reason: body.reason } : {}),
      ...(key ? { idempotencyKey: key } : {}),
    });
    c.get("log").fields.refund_id = result.refund.id;
    return c.json({ refund: result.refund, order: result.order }, result.created ? 201 : 200);
  })
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
