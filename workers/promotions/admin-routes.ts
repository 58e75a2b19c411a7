import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { decodeCursor, encodeCursor, PaginationQuery, problemResponses } from "../lib/schemas";
import { CreatePromotionBodySchema, PromotionListSchema, PromotionSchema } from "./schemas";
import { createPromotion, listPromotions, setPromotionActive } from "./service";

const PromotionCursor = z.object({ created_at: z.number().int(), id: z.string() });

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["Admin: promotions"],
  summary: "List promotion codes with their usage",
  security: [{ adminToken: [] }],
  middleware: [requireScope("promotions:write")] as const,
  request: { query: PaginationQuery },
  responses: {
    200: {
      description: "A page of promotions",
      content: { "application/json": { schema: PromotionListSchema } },
    },
    ...problemResponses(401, 403, 422),
  },
});

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["Admin: promotions"],
  summary: "Create a percentage or fixed-amount promotion code",
  security: [{ adminToken: [] }],
  middleware: [requireScope("promotions:write")] as const,
  request: {
    body: { required: true, content: { "application/json": { schema: CreatePromotionBodySchema } } },
  },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: PromotionSchema } } },
    ...problemResponses(400, 401, 403, 409, 422),
  },
});

const update = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["Admin: promotions"],
  summary: "Enable or disable a promotion code",
  description: "Disabling stops new uses at once; uses held by open checkouts stay valid.",
  security: [{ adminToken: [] }],
  middleware: [requireScope("promotions:write")] as const,
  request: {
    params: z.object({
      id: z
        .string()
        .max(64)
        .openapi({ param: { name: "id", in: "path" } }),
    }),
    body: {
      required: true,
      content: {
        "application/json": { schema: z.strictObject({ active: z.boolean() }).openapi("PromotionUpdate") },
      },
    },
  },
  responses: {
    200: { description: "The promotion", content: { "application/json": { schema: PromotionSchema } } },
    ...problemResponses(400, 401, 403, 404, 422),
  },
});

/** `/admin/api/promotions`: codes, limits, windows. */
export const promotionAdminRoutes = createRouter()
  .openapi(list, async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const after = cursor === undefined ? null : decodeCursor(cursor, PromotionCursor);
    if (cursor !== undefined && after === null) {
      throw problems.validation([{ path: "query.cursor", message: "Invalid cursor" }]);
    }
    const page = await listPromotions(c.env, { after, limit });
    return c.json({ data: page.data, next_cursor: page.last ? encodeCursor(page.last) : null }, 200);
  })
  .openapi(create, async (c) => {
    const result = await createPromotion(c.env, c.req.valid("json"));
    if (!result.ok)
      throw problems.conflict("promotion_code_taken", "A promotion with this code already exists.");
    return c.json(result.promotion, 201);
  })
  .openapi(update, async (c) => {
    const promotion = await setPromotionActive(c.env, c.req.valid("param").id, c.req.valid("json").active);
    if (!promotion) throw problems.notFound("Promotion", "promotion_not_found");
    return c.json(promotion, 200);
  });
