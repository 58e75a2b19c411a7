import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { paymentProviderFor } from "../payments/provider";
import {
  AdminOrderSchema,
  GuestOrderQuery,
  OrderIdParam,
  OrderListQuerySchema,
  OrderListSchema,
  OrderSchema,
  RefundRequestSchema,
  RefundResponseSchema,
} from "./schemas";
import { getAdminOrder, getOrderForGuest, listOrders, refundOrder } from "./service";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const guestOrder = createRoute({
  method: "get",
  path: "/api/orders/{id}",
  tags: ["Orders"],
  summary: "An order, for a guest holding its lookup token",
  request: { params: OrderIdParam, query: GuestOrderQuery },
  responses: { 200: json(OrderSchema, "The order"), ...problemResponses(404, 422) },
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

/** Guest order lookup and the admin orders API. */
export const orderRoutes = createRouter()
  .openapi(guestOrder, async (c) => {
    const { id } = c.req.valid("param");
    const { token } = c.req.valid("query");
    const order = await getOrderForGuest(c.env, id, token);
    // Same answer for an unknown order and a wrong token: the id alone reveals nothing.
    if (!order) throw problems.notFound("Order", "order_not_found");
    c.get("log").fields.order_id = order.id;
    c.header("cache-control", "private, no-store");
    return c.json(order, 200);
  })
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
  });
