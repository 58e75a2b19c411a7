import { createRoute, type z } from "@hono/zod-openapi";
import { problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { GuestOrderQuery, OrderIdParam, OrderSchema } from "./schemas";
import { getOrderForGuest } from "./service";

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

/** Guest order lookup: an order for whoever holds its lookup token. */
export const orderRoutes = createRouter().openapi(guestOrder, async (c) => {
  const { id } = c.req.valid("param");
  const { token } = c.req.valid("query");
  const order = await getOrderForGuest(c.env, id, token);
  // Same answer for an unknown order and a wrong token: the id alone reveals nothing.
  if (!order) throw problems.notFound("Order", "order_not_found");
  c.get("log").fields.order_id = order.id;
  c.header("cache-control", "private, no-store");
  return c.json(order, 200);
});
