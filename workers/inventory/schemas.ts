import { z } from "@hono/zod-openapi";
import { RoomName } from "../waiting-room/schemas";
import { LIMITS, SKU_PATTERN } from "./types";

export const SkuParam = z.object({
  sku: z
    .string()
    .regex(SKU_PATTERN)
    .openapi({ param: { name: "sku", in: "path" }, example: "TEE-BLK-M" }),
});

export const ReservationParams = SkuParam.extend({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "res_7d3k9q2m4n8p1r5s6t0v_0" }),
});

export const IdempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().openapi({
    description:
      "Repeating a request with the same key returns the original result; the same key with a different body answers 422 `idempotency_key_reused`",
  }),
});

const Quantity = z.number().int().min(1).max(LIMITS.maxQuantity);
const NullableLimit = z.number().int().min(1).max(LIMITS.maxQuantity).nullable();
const Ttl = z.number().int().min(LIMITS.minTtlSeconds).max(LIMITS.maxTtlSeconds);
const Reason = z.string().trim().min(1).max(500);

export const SetStockBody = z
  .strictObject({
    on_hand: z.number().int().min(0).max(LIMITS.maxOnHand),
    reason: Reason.optional(),
  })
  .openapi("SetStock");

export const AdjustmentBody = z
  .strictObject({
    delta: z
      .number()
      .int()
      .min(-LIMITS.maxOnHand)
      .max(LIMITS.maxOnHand)
      .refine((d) => d !== 0, "delta must not be zero"),
    reason: Reason,
  })
  .openapi("StockAdjustmentRequest");

export const SaleBody = z
  .strictObject({
    reserve_on_add_to_cart: z.boolean().optional(),
    reservation_ttl_seconds: Ttl.optional(),
    max_per_reservation: NullableLimit.optional(),
    per_holder_limit: NullableLimit.optional(),
    per_customer_limit: NullableLimit.optional(),
    sale_starts_at: z.iso.datetime({ offset: true }).nullable().optional(),
    sale_ends_at: z.iso.datetime({ offset: true }).nullable().optional(),
    waiting_room: RoomName.nullable().optional().openapi({
      description:
        "Require an admission from this waiting room (PUT /admin/api/waiting-rooms/{room}) to reserve new units; null removes the requirement",
    }),
    shards: z
      .number()
      .int()
      .min(1)
      .max(LIMITS.maxShards)
      .optional()
      .openapi({ description: "Objects the SKU's stock is spread over (hot SKUs); safe to change live" }),
  })
  .refine(
    (b) => !b.sale_starts_at || !b.sale_ends_at || Date.parse(b.sale_starts_at) < Date.parse(b.sale_ends_at),
    { message: "sale_ends_at must be after sale_starts_at", path: ["sale_ends_at"] },
  )
  .openapi("SaleConfigRequest");

export const ReserveBody = z
  .strictObject({
    holder: z.string().min(1).max(128).openapi({ description: "Cart, checkout or ops hold id" }),
    customer: z.string().min(1).max(128).optional(),
    quantity: Quantity,
    ttl_seconds: Ttl.optional(),
  })
  .openapi("ManualReservationRequest");

export const PolicySchema = z
  .object({
    reserve_on_add_to_cart: z.boolean(),
    reservation_ttl_seconds: z.number().int(),
    max_per_reservation: z.number().int().nullable(),
    per_holder_limit: z.number().int().nullable(),
    per_customer_limit: z.number().int().nullable(),
    sale_starts_at: z.string().nullable(),
    sale_ends_at: z.string().nullable(),
    waiting_room: z.string().nullable(),
  })
  .openapi("SkuPolicy");

export const SaleConfigSchema = z
  .object({ sku: z.string(), policy: PolicySchema, shard_count: z.number().int() })
  .openapi("SaleConfig");

export const ReservationSchema = z
  .object({
    id: z.string(),
    sku: z.string(),
    holder: z.string(),
    quantity: z.number().int(),
    status: z.enum(["held", "committed", "released", "expired"]),
    expires_at: z.string(),
    created_at: z.string(),
  })
  .openapi("Reservation");

const Counters = {
  on_hand: z.number().int(),
  available: z.number().int(),
  reserved: z.number().int(),
  sold: z.number().int(),
};

export const AdjustmentSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["set", "adjust", "order_return"]),
    delta: z.number().int(),
    reason: z.string(),
    on_hand_after: z.number().int(),
    created_at: z.string(),
  })
  .openapi("StockAdjustment");

export const InventorySchema = z
  .object({
    sku: z.string(),
    ...Counters,
    in_transit: z
      .number()
      .int()
      .openapi({ description: "Units moving between shards (counted as available)" }),
    shard_count: z.number().int(),
    policy: PolicySchema,
    shards: z.array(z.object({ shard: z.number().int(), active: z.boolean(), ...Counters })),
    reservations: z.array(ReservationSchema),
    adjustments: z.array(AdjustmentSchema),
  })
  .openapi("Inventory");

export const StockChangeSchema = z
  .object({ sku: z.string(), on_hand: z.number().int(), adjustment: AdjustmentSchema })
  .openapi("StockChange");

export const AvailabilityQuery = z.object({
  skus: z
    .string()
    .min(1)
    .max(2000)
    .transform((s) => s.split(",").filter((x) => x.length > 0))
    .pipe(z.array(z.string().regex(SKU_PATTERN)).min(1).max(100))
    .openapi({
      description: "Comma-separated SKU codes (up to 100)",
      example: "TEE-BLK-M,TEE-BLK-L",
      type: "string",
    }),
});

export const AvailabilitySchema = z
  .object({
    items: z.record(
      z.string(),
      z.object({
        status: z.enum(["in_stock", "low", "sold_out"]),
        available: z.number().int().nullable().openapi({ description: "Shown when low or sold out" }),
      }),
    ),
    stale_after_seconds: z.number().int(),
  })
  .openapi("Availability");
