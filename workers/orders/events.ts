import { z } from "@hono/zod-openapi";

const envelope = {
  id: z.string().regex(/^evt_[0-9a-z]{20}$/),
  occurred_at: z.string().datetime(),
  order_id: z.string().regex(/^ord_/),
};

const minor = z.number().int();

/**
 * What a fulfilment system needs to pick, pack and notify, carried in the event itself so
 * the fulfilment worker never reads the edge's order tables ("fat" events).
 */
export const OrderSnapshotSchema = z
  .object({
    order_number: z.string(),
    email: z.string(),
    currency: z.string().length(3),
    total: minor,
    lines: z.array(
      z.object({
        sku: z.string(),
        title: z.string(),
        quantity: z.number().int().positive(),
        unit_price: minor,
      }),
    ),
    shipping_address: z.record(z.string(), z.unknown()).nullable(),
    shipping_method: z.object({ id: z.string(), name: z.string() }).nullable(),
  })
  .openapi("OrderSnapshot");
export type OrderSnapshot = z.infer<typeof OrderSnapshotSchema>;

export const OrderPlacedEventSchema = z
  .object({ ...envelope, type: z.literal("order.placed"), version: z.literal(1), order: OrderSnapshotSchema })
  .openapi("OrderPlacedEvent");

export const OrderPaidEventSchema = z
  .object({
    ...envelope,
    type: z.literal("order.paid"),
    version: z.literal(1),
    payment: z.object({ provider: z.string(), payment_id: z.string(), amount: minor }),
    order: OrderSnapshotSchema,
  })
  .openapi("OrderPaidEvent");

export const OrderCancelledEventSchema = z
  .object({ ...envelope, type: z.literal("order.cancelled"), version: z.literal(1), reason: z.string() })
  .openapi("OrderCancelledEvent");

export const OrderRefundedEventSchema = z
  .object({
    ...envelope,
    type: z.literal("order.refunded"),
    version: z.literal(1),
    refund: z.object({ refund_id: z.string(), amount: minor, currency: z.string().length(3) }),
    fully_refunded: z.boolean(),
  })
  .openapi("OrderRefundedEvent");

export const TrackingSchema = z.object({
  carrier: z.string().min(1).max(64),
  number: z.string().min(1).max(128),
  url: z.string().url().max(2048).optional(),
});

export const FulfilmentEventSchema = z
  .object({
    ...envelope,
    type: z.enum(["fulfilment.fulfilling", "fulfilment.shipped", "fulfilment.delivered"]),
    version: z.literal(1),
    tracking: TrackingSchema.nullable(),
  })
  .openapi("FulfilmentEvent");

/** Every event on the order-events queue; the fulfilment worker's contract. */
export const OrderEventSchema = z.discriminatedUnion("type", [
  OrderPlacedEventSchema,
  OrderPaidEventSchema,
  OrderCancelledEventSchema,
  OrderRefundedEventSchema,
  FulfilmentEventSchema,
]);
export type OrderEvent = z.infer<typeof OrderEventSchema>;
export type OrderEventType = OrderEvent["type"];

export type OrderPlacedEvent = z.infer<typeof OrderPlacedEventSchema>;
export type OrderPaidEvent = z.infer<typeof OrderPaidEventSchema>;
export type OrderRefundedEvent = z.infer<typeof OrderRefundedEventSchema>;

/** The fat snapshot carried by `order.placed` / `order.paid`, from an order's line snapshots. */
export function orderSnapshot(o: {
  number: string;
  email: string;
  currency: string;
  total: number;
  lines: readonly {
    sku: string;
    title: string;
    variant_title?: string;
    quantity: number;
    unit_price: number;
  }[];
  shipping_address: Record<string, unknown> | null;
  shipping_method: { id: string; name: string } | null;
}): OrderSnapshot {
  return {
    order_number: o.number,
    email: o.email,
    currency: o.currency,
    total: o.total,
    lines: o.lines.map((l) => ({
      sku: l.sku,
      title: l.variant_title ? `${l.title} (${l.variant_title})` : l.title,
      quantity: l.quantity,
      unit_price: l.unit_price,
    })),
    shipping_address: o.shipping_address,
    shipping_method: o.shipping_method ? { id: o.shipping_method.id, name: o.shipping_method.name } : null,
  };
}

const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * The id of the `type` event about `orderId`, derived rather than random: whoever writes it
 * (placeOrder, or a checkout re-applying an outcome after a crash) writes the same outbox row,
 * so an order never gets two `order.placed` events.
 */
export async function orderEventId(orderId: string, type: OrderEventType): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${orderId}:${type}`)),
  );
  let out = "";
  for (const byte of digest.subarray(0, 20)) out += ID_ALPHABET[byte & 31];
  return `evt_${out}`;
}

/**
 * Order flags that keep an order away from fulfilment: such an order is recorded and
 * announced (`order.placed`) but never `order.paid`, so it is not handed to the warehouse.
 * `payment_amount_mismatch`: the provider captured another amount than the order's total
 * (a tampered or stale payment); a person decides before anything ships.
 */
export const HOLD_FULFILMENT_FLAGS = ["stock_lost_refunded", "payment_amount_mismatch"] as const;
