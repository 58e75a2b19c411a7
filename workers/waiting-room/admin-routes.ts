import { createRoute, type z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { roomNotFound, secretMissing } from "./problems";
import { RoomBody, RoomParam, RoomSchema } from "./schemas";
import { configureRoom, roomStatus } from "./service";
import { admissionSecret } from "./token";

const tags = ["Admin: waiting rooms"];
const security = [{ adminToken: [] }];
const roomJson = (description: string) => ({
  description,
  content: { "application/json": { schema: RoomSchema } },
});

const put = createRoute({
  method: "put",
  path: "/admin/api/waiting-rooms/{room}",
  tags,
  summary: "Create or reconfigure a waiting room (rate, admission lifetime, opening)",
  description:
    "A room gates nothing on its own: set `waiting_room` in a SKU's sale policy (`PUT /admin/api/inventory/{sku}/sale`) to require its admission for reserving that SKU. " +
    "Changing the rate keeps everyone's place and every admission already made.",
  security,
  middleware: [requireScope("inventory:write")] as const,
  request: {
    params: RoomParam,
    body: { required: true, content: { "application/json": { schema: RoomBody } } },
  },
  responses: { 200: roomJson("The room"), ...problemResponses(400, 401, 403, 413, 422, 503) },
});

const get = createRoute({
  method: "get",
  path: "/admin/api/waiting-rooms/{room}",
  tags,
  summary: "A waiting room's settings and live counts (joined, admitted, waiting, active admissions)",
  security,
  middleware: [requireScope("inventory:read")] as const,
  request: { params: RoomParam },
  responses: { 200: roomJson("The room"), ...problemResponses(401, 403, 404, 422) },
});

/** Admin waiting-room routes (`inventory:read` / `inventory:write`). */
export const waitingRoomAdminRoutes = createRouter()
  .openapi(put, async (c) => {
    const { room } = c.req.valid("param");
    const body: z.infer<typeof RoomBody> = c.req.valid("json");
    // A room that cannot sign admissions would lock every shopper out of its sale.
    if (!admissionSecret(c.env)) throw secretMissing();
    const stats = await configureRoom(c.env, {
      room,
      admitPerMinute: body.admit_per_minute,
      tokenTtlSeconds: body.token_ttl_seconds,
      opensAt: body.opens_at === null ? null : Date.parse(body.opens_at),
    });
    c.get("log").fields.waiting_room = room;
    return c.json(stats, 200);
  })
  .openapi(get, async (c) => {
    const { room } = c.req.valid("param");
    const result = await roomStatus(c.env, room);
    if (!result.ok) throw roomNotFound(room);
    c.header("cache-control", "no-store");
    return c.json(result.stats, 200);
  });
