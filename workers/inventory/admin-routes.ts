import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { idempotencyKeyReused } from "../lib/idempotency";
import { newId } from "../lib/ids";
import { ApiError, problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { decodeCursor, encodeCursor, PaginationQuery, problemResponses } from "../lib/schemas";
import { roomStatus } from "../waiting-room/service";
import { listSkuLevels } from "./levels";
import type { StockChangeResult } from "./rpc";
import {
  AdjustmentBody,
  IdempotencyHeader,
  InventorySchema,
  ReservationParams,
  ReservationSchema,
  ReserveBody,
  SaleBody,
  SaleConfigSchema,
  SetStockBody,
  SkuParam,
  StockChangeSchema,
} from "./schemas";
import {
  adjustStock,
  configureSale,
  getInventory,
  initialiseStock,
  releaseReservation,
  reserveStock,
  setStock,
  shardOfReservation,
} from "./service";
import { LIMITS, type ReserveRefusal, SKU_PATTERN } from "./types";

const security = [{ adminToken: [] }];
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const REFUSAL_DETAIL: Record<ReserveRefusal, string> = {
  insufficient_stock: "Not enough units are available.",
  sale_not_started: "The sale has not started yet.",
  sale_ended: "The sale has ended.",
  limit_exceeded: "The purchase limit for this SKU would be exceeded.",
  quantity_too_large: "The quantity exceeds the maximum per reservation.",
  admission_required: "This sale admits shoppers through its waiting room; join it first.",
  admission_expired: "The waiting-room admission has expired; join the waiting room again.",
};

/** Reservation refusals are 409s whose `code` is the refusal reason, with the units still available. */
export const refusalProblem = (reason: ReserveRefusal, available: number) =>
  problems.conflict(reason, REFUSAL_DETAIL[reason], { available });

const noSuchRoom = (room: string) =>
  new ApiError(422, "waiting_room_not_found", "Unknown waiting room", {
    detail: `Create the waiting room first: PUT /admin/api/waiting-rooms/${room}.`,
    errors: [{ path: "body.waiting_room", message: `no waiting room ${room}` }],
  });

const stockChangeProblem = (refusal: Extract<StockChangeResult, { ok: false }>) =>
  refusal.reason === "idempotency_key_reused"
    ? idempotencyKeyReused("This Idempotency-Key was used for a different stock change.")
    : problems.conflict(
        "stock_below_committed",
        `On-hand cannot go below the ${refusal.committed} units already reserved or sold.`,
        { on_hand: refusal.on_hand, committed: refusal.committed },
      );

const getRoute = createRoute({
  method: "get",
  path: "/admin/api/inventory/{sku}",
  tags: ["Admin: inventory"],
  summary: "Counters (summed over shards), sale config, live reservations, recent adjustments",
  security,
  middleware: [requireScope("inventory:read")] as const,
  request: { params: SkuParam },
  responses: { 200: json(InventorySchema, "The SKU's inventory"), ...problemResponses(401, 403, 404, 422) },
});

const putRoute = createRoute({
  method: "put",
  path: "/admin/api/inventory/{sku}",
  tags: ["Admin: inventory"],
  summary: "Set on-hand stock (audited; refused below reserved + sold)",
  security,
  middleware: [requireScope("inventory:write")] as const,
  request: {
    params: SkuParam,
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: SetStockBody } }, required: true },
  },
  responses: { 200: json(StockChangeSchema, "Stock set"), ...problemResponses(401, 403, 409, 422) },
});

const adjustRoute = createRoute({
  method: "post",
  path: "/admin/api/inventory/{sku}/adjustments",
  tags: ["Admin: inventory"],
  summary: "Adjust on-hand stock by a delta with a reason (audited)",
  security,
  middleware: [requireScope("inventory:write")] as const,
  request: {
    params: SkuParam,
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: AdjustmentBody } }, required: true },
  },
  responses: { 201: json(StockChangeSchema, "Adjusted"), ...problemResponses(401, 403, 409, 422) },
});

const saleRoute = createRoute({
  method: "put",
  path: "/admin/api/inventory/{sku}/sale",
  tags: ["Admin: inventory"],
  summary: "Configure the sale window, limits, reservation TTL and policy, and the shard count",
  security,
  middleware: [requireScope("inventory:write")] as const,
  request: {
    params: SkuParam,
    body: { content: { "application/json": { schema: SaleBody } }, required: true },
  },
  responses: { 200: json(SaleConfigSchema, "The resulting config"), ...problemResponses(401, 403, 422) },
});

const holdRoute = createRoute({
  method: "post",
  path: "/admin/api/inventory/{sku}/reservations",
  tags: ["Admin: inventory"],
  summary: "Place a manual hold (ops tool), subject to the same rules as a cart reservation",
  security,
  middleware: [requireScope("inventory:write")] as const,
  request: {
    params: SkuParam,
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: ReserveBody } }, required: true },
  },
  responses: { 201: json(ReservationSchema, "Held"), ...problemResponses(401, 403, 409, 422) },
});

const releaseRoute = createRoute({
  method: "delete",
  path: "/admin/api/inventory/{sku}/reservations/{id}",
  tags: ["Admin: inventory"],
  summary: "Force-release a held reservation",
  security,
  middleware: [requireScope("inventory:write")] as const,
  request: { params: ReservationParams },
  responses: {
    204: { description: "Released (or already released/expired)" },
    ...problemResponses(401, 403, 404, 409, 422),
  },
});

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

const initialStockRoute = createRoute({
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

const levelsRoute = createRoute({
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

/** Admin inventory API (`inventory:read` / `inventory:write` scopes). */
export const inventoryAdminRoutes = createRouter()
  // Bulk initial stock: one request per 500 SKUs instead of one per SKU.
  .openapi(initialStockRoute, async (c) =>
    c.json(await initialiseStock(c.env, c.req.valid("json").items), 200),
  )
  // Which SKUs exist and roughly where they stand.
  .openapi(levelsRoute, async (c) => {
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
  })
  .openapi(getRoute, async (c) => {
    const { sku } = c.req.valid("param");
    const view = await getInventory(c.env, sku);
    if (!view.known)
      throw problems.notFound("Inventory", "inventory_not_found", `No stock was ever set for ${sku}.`);
    const { known: _known, ...body } = view;
    c.header("cache-control", "no-store");
    return c.json(body, 200);
  })
  .openapi(putRoute, async (c) => {
    const { sku } = c.req.valid("param");
    const body = c.req.valid("json");
    const result = await setStock(c.env, {
      sku,
      onHand: body.on_hand,
      reason: body.reason ?? "stock set",
      key: c.req.valid("header")["idempotency-key"] ?? newId("req"),
    });
    if (!result.ok) throw stockChangeProblem(result);
    return c.json({ sku, on_hand: result.on_hand, adjustment: result.adjustment }, 200);
  })
  .openapi(adjustRoute, async (c) => {
    const { sku } = c.req.valid("param");
    const body = c.req.valid("json");
    const result = await adjustStock(c.env, {
      sku,
      delta: body.delta,
      reason: body.reason,
      key: c.req.valid("header")["idempotency-key"] ?? newId("req"),
    });
    if (!result.ok) throw stockChangeProblem(result);
    return c.json({ sku, on_hand: result.on_hand, adjustment: result.adjustment }, 201);
  })
  .openapi(saleRoute, async (c) => {
    const { sku } = c.req.valid("param");
    const { shards, ...policy } = c.req.valid("json");
    if (policy.waiting_room && !(await roomStatus(c.env, policy.waiting_room)).ok) {
      throw noSuchRoom(policy.waiting_room);
    }
    const result = await configureSale(c.env, { sku, policy, ...(shards === undefined ? {} : { shards }) });
    return c.json({ sku, ...result }, 200);
  })
  .openapi(holdRoute, async (c) => {
    const { sku } = c.req.valid("param");
    const body = c.req.valid("json");
    const result = await reserveStock(c.env, {
      sku,
      holder: body.holder,
      ...(body.customer === undefined ? {} : { customer: body.customer }),
      quantity: body.quantity,
      ...(body.ttl_seconds === undefined ? {} : { ttlSeconds: body.ttl_seconds }),
      key: c.req.valid("header")["idempotency-key"] ?? newId("req"),
      // An ops hold is not a shopper: it never queues.
      admission: "exempt",
    });
    if (!result.ok) throw refusalProblem(result.reason, result.available);
    return c.json(result.reservation, 201);
  })
  .openapi(releaseRoute, async (c) => {
    const { sku, id } = c.req.valid("param");
    const notFound = () => problems.notFound("Reservation", "reservation_not_found");
    if (shardOfReservation(id) === null) throw notFound();
    const result = await releaseReservation(c.env, { sku, reservationId: id });
    if (!result.ok) {
      if (result.reason === "not_found") throw notFound();
      throw new ApiError(409, "reservation_committed", "Conflict", {
        detail: "The reservation was already committed to an order; cancel the order instead.",
      });
    }
    return c.body(null, 204);
  });
