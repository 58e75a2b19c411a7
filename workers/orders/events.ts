import { z } from "@hono/zod-openapi";
import { newId } from "../lib/ids";
import { CurrencySchema, MoneySchema } from "../lib/money";
import type { OrderView } from "./schemas";

/**
 * `order.placed`: published once per order after it is written to D1. Consumers
 * (fulfilment, notifications, analytics) key their own idempotency on `order_id`.
 */
export const OrderPlacedEventSchema = z
  .object({
    id: z.string().regex(/^evt_/),
    type: z.literal("order.placed"),
    version: z.literal(1),
    occurred_at: z.string().datetime(),
    order_id: z.string().regex(/^ord_/),
    order_number: z.string(),
    checkout_id: z.string(),
    email: z.string(),
    currency: CurrencySchema,
    totals: z.object({
      subtotal: MoneySchema,
      discount_total: MoneySchema,
      shipping_total: MoneySchema,
      tax_total: MoneySchema,
      total: MoneySchema,
    }),
    lines: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })),
    flags: z.array(z.string()),
  })
  .openapi("OrderPlacedEvent");

export type OrderPlacedEvent = z.infer<typeof OrderPlacedEventSchema>;

/** Builds the `order.placed` event for an order that `placeOrder` has just created. */
export function orderPlacedEvent(order: OrderView): OrderPlacedEvent {
  return OrderPlacedEventSchema.parse({
    id: newId("evt"),
    type: "order.placed",
    version: 1,
    occurred_at: order.created_at,
    order_id: order.id,
    order_number: order.number,
    checkout_id: order.checkout_id,
    email: order.email,
    currency: order.currency,
    totals: {
      subtotal: order.subtotal,
      discount_total: order.discount_total,
      shipping_total: order.shipping_total,
      tax_total: order.tax_total,
      total: order.total,
    },
    lines: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })),
    flags: order.flags,
  });
}
