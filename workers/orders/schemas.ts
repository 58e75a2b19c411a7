import { z } from "@hono/zod-openapi";
import { ORDER_PAYMENT_STATUSES } from "../../db/tables/orders";
import { AmountSchema, CurrencySchema, MoneySchema } from "../lib/money";
import { PaginationQuery } from "../lib/schemas";
import { ORDER_STATUSES } from "./lifecycle";

/**
 * Amounts in an `OrderDraft` are integer minor units in the draft's currency. A `Money`
 * object is accepted too (its currency must match), so callers can pass provider values as is.
 */
const DraftAmount = z.union([AmountSchema, MoneySchema]);

const DraftLineSchema = z.object({
  sku: z.string().min(1).max(128),
  variant_id: z.string().min(1).max(64),
  product_id: z.string().min(1).max(64),
  title: z.string().max(500),
  variant_title: z.string().max(500).default(""),
  quantity: z.number().int().min(1).max(10_000),
  unit_price: AmountSchema,
  discount: AmountSchema.default(0),
  tax: AmountSchema.default(0),
  total: AmountSchema,
  /** The committed inventory reservation behind this line, so a cancellation can restock it. */
  reservation_id: z.string().max(128).nullable().optional(),
});

/** The tax charged on one order line (`position`) or on shipping (`position` null). */
const DraftTaxLineSchema = z.object({
  position: z.number().int().min(0).nullable(),
  country: z.string().max(2),
  subdivision: z.string().max(16),
  tax_class: z.string().max(32),
  rate_bp: z.number().int().min(0).max(100_000),
  taxable_amount: AmountSchema,
  amount: AmountSchema,
  name: z.string().max(200),
  provider: z.enum(["tables", "stripe"]),
  provider_reference: z.string().max(255).nullable(),
});

/** What the checkout domain hands to `placeOrder` once a payment succeeded. */
export const OrderDraftSchema = z.object({
  checkout_id: z.string().min(1).max(64),
  cart_id: z.string().min(1).max(64),
  email: z.string().email().max(320),
  currency: CurrencySchema,
  lines: z.array(DraftLineSchema).min(1).max(500),
  subtotal: AmountSchema,
  discount_total: AmountSchema,
  shipping_total: AmountSchema,
  tax_total: AmountSchema,
  total: AmountSchema,
  tax_inclusive: z.boolean(),
  shipping_address: z.record(z.string(), z.unknown()).nullable().default(null),
  shipping_method: z.object({ id: z.string().max(64), name: z.string().max(200), amount: DraftAmount }),
  promotion_codes: z.array(z.string().max(64)).max(20).default([]),
  payment: z.object({
    provider: z.enum(["stripe", "test"]),
    payment_id: z.string().min(1).max(255),
    amount: DraftAmount,
    status: z.string().max(40),
  }),
  flags: z.array(z.string().max(64)).max(20).default([]),
  /**
   * Optional guest lookup token chosen by the caller (stored hashed). Passing one lets the
   * checkout show it on every replay; without it `placeOrder` generates one and returns it once.
   */
  lookup_token: z.string().min(32).max(128).optional(),
  /** The selling region the checkout priced in (null for drafts from before regions were data). */
  region_code: z.string().max(32).nullable().default(null),
  tax_lines: z.array(DraftTaxLineSchema).max(501).default([]),
});
export type OrderDraft = z.input<typeof OrderDraftSchema>;
export type ParsedOrderDraft = z.output<typeof OrderDraftSchema>;

const Timestamp = z.string().datetime().openapi({ example: "2026-11-22T04:00:00.000Z" });

export const OrderLineSchema = z
  .object({
    id: z.string(),
    sku: z.string(),
    variant_id: z.string(),
    product_id: z.string(),
    title: z.string(),
    variant_title: z.string(),
    quantity: z.number().int(),
    unit_price: MoneySchema,
    discount: MoneySchema,
    tax: MoneySchema,
    total: MoneySchema,
  })
  .openapi("OrderLine");

export const OrderPaymentSchema = z
  .object({
    provider: z.enum(["stripe", "test"]),
    payment_id: z.string(),
    amount: MoneySchema,
    status: z.string(),
    created_at: Timestamp,
  })
  .openapi("OrderPayment");

export const OrderRefundSchema = z
  .object({
    id: z.string(),
    provider_refund_id: z.string().nullable(),
    amount: MoneySchema,
    status: z.enum(["pending", "succeeded", "failed"]),
    reason: z.string().nullable(),
    created_at: Timestamp,
  })
  .openapi("OrderRefund");

export const OrderSchema = z
  .object({
    id: z.string().openapi({ example: "ord_0123456789abcdefghjk" }),
    number: z.string().openapi({ example: "PC-100042" }),
    status: z.enum(ORDER_STATUSES),
    payment_status: z.enum(ORDER_PAYMENT_STATUSES),
    checkout_id: z.string(),
    cart_id: z.string(),
    email: z.string(),
    currency: CurrencySchema,
    lines: z.array(OrderLineSchema),
    subtotal: MoneySchema,
    discount_total: MoneySchema,
    shipping_total: MoneySchema,
    tax_total: MoneySchema,
    total: MoneySchema,
    refunded_total: MoneySchema,
    tax_inclusive: z.boolean(),
    region: z.string().nullable().openapi({ description: "Selling region the order was priced in" }),
    tax_lines: z
      .array(
        z
          .object({
            line: z
              .number()
              .int()
              .nullable()
              .openapi({ description: "Position of the taxed line; null: shipping" }),
            country: z.string(),
            subdivision: z.string(),
            tax_class: z.string(),
            rate_bp: z.number().int().openapi({ description: "Rate charged, basis points (1900 = 19 %)" }),
            name: z.string(),
            taxable_amount: MoneySchema,
            amount: MoneySchema,
            provider: z.enum(["tables", "stripe"]),
            provider_reference: z.string().nullable(),
          })
          .openapi("OrderTaxLine"),
      )
      .openapi({ description: "The rates and amounts the order was charged, as computed at checkout" }),
    shipping_address: z.record(z.string(), z.unknown()).nullable(),
    shipping_method: z.object({ id: z.string(), name: z.string(), amount: MoneySchema }),
    promotion_codes: z.array(z.string()),
    flags: z.array(z.string()),
    payments: z.array(OrderPaymentSchema),
    refunds: z.array(OrderRefundSchema),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Order");
export type OrderView = z.infer<typeof OrderSchema>;

export const OrderStatusEntrySchema = z
  .object({ status: z.string(), note: z.string().nullable(), created_at: Timestamp })
  .openapi("OrderStatusEntry");

export const OrderEventEntrySchema = z
  .object({
    id: z.string(),
    type: z.string(),
    created_at: Timestamp,
    sent_at: Timestamp.nullable(),
    send_attempts: z.number().int(),
  })
  .openapi("OrderEventEntry");

export const OrderDeliveryEntrySchema = z
  .object({
    event_id: z.string(),
    event_type: z.string(),
    url: z.string(),
    attempt: z.number().int(),
    status_code: z.number().int().nullable(),
    ok: z.boolean(),
    error: z.string().nullable(),
    created_at: Timestamp,
  })
  .openapi("OrderDeliveryEntry");

export const AdminOrderSchema = OrderSchema.extend({
  status_history: z.array(OrderStatusEntrySchema),
  /** Events the order produced (outbox), with whether each reached its queue. */
  events: z.array(OrderEventEntrySchema),
  /** Fulfilment webhook attempts for the order. */
  deliveries: z.array(OrderDeliveryEntrySchema),
}).openapi("AdminOrder");
export type AdminOrderView = z.infer<typeof AdminOrderSchema>;

export const OrderSummarySchema = z
  .object({
    id: z.string(),
    number: z.string(),
    status: z.enum(ORDER_STATUSES),
    payment_status: z.enum(ORDER_PAYMENT_STATUSES),
    email: z.string(),
    total: MoneySchema,
    refunded_total: MoneySchema,
    flags: z.array(z.string()),
    created_at: Timestamp,
  })
  .openapi("OrderSummary");
export type OrderSummary = z.infer<typeof OrderSummarySchema>;

export const OrderListQuerySchema = PaginationQuery.extend({
  status: z.enum(ORDER_STATUSES).optional(),
  payment_status: z.enum(ORDER_PAYMENT_STATUSES).optional(),
  email: z.string().email().max(320).optional(),
  created_from: z.string().datetime().optional().openapi({ description: "Inclusive lower bound (ISO 8601)" }),
  created_to: z.string().datetime().optional().openapi({ description: "Exclusive upper bound (ISO 8601)" }),
});
export type OrderListQuery = z.infer<typeof OrderListQuerySchema>;

export const OrderListSchema = z
  .object({ items: z.array(OrderSummarySchema), next_cursor: z.string().nullable() })
  .openapi("OrderList");

export const OrderIdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "ord_0123456789abcdefghjk" }),
});

export const GuestOrderQuery = z.object({
  token: z
    .string()
    .min(1)
    .max(256)
    .openapi({ param: { name: "token", in: "query" }, description: "The order's lookup token" }),
});

export const RefundRequestSchema = z
  .strictObject({
    amount: MoneySchema.optional().openapi({ description: "Omit for a full refund of what remains" }),
    reason: z.string().max(500).optional(),
  })
  .openapi("RefundRequest");

export const RefundResponseSchema = z
  .object({ refund: OrderRefundSchema, order: OrderSchema })
  .openapi("RefundResponse");
