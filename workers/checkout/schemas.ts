import { z } from "@hono/zod-openapi";
import { CartTotalsSchema } from "../cart/schemas";
import { MoneySchema } from "../lib/money";

export const CHECKOUT_STATUSES = [
  "awaiting_payment",
  "requires_action",
  "completed",
  "failed",
  "expired",
] as const;
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];

export const IdempotencyKeySchema = z
  .string()
  .min(8)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

export const CheckoutSchema = z
  .object({
    id: z.string(),
    cart_id: z.string(),
    status: z.enum(CHECKOUT_STATUSES),
    payment: z
      .object({
        provider: z.enum(["stripe", "test"]),
        payment_id: z.string(),
        client_secret: z
          .string()
          .nullable()
          .openapi({ description: "Hand to Stripe.js (or the test confirm route)" }),
        next_action: z.object({ type: z.string(), url: z.string().optional() }).nullable(),
      })
      .nullable(),
    lines: z.array(
      z.object({ sku: z.string(), quantity: z.number().int(), unit_price: MoneySchema, total: MoneySchema }),
    ),
    totals: CartTotalsSchema,
    order: z
      .object({
        id: z.string(),
        number: z.string(),
        lookup_token: z.string().nullable().openapi({ description: "Use with GET /api/orders/{id}?token=" }),
      })
      .nullable(),
    failure: z.object({ code: z.string(), message: z.string() }).nullable(),
    expires_at: z
      .string()
      .openapi({ description: "End of the payment window; reservations are held until then" }),
    created_at: z.string(),
  })
  .openapi("Checkout");

export type CheckoutView = z.infer<typeof CheckoutSchema>;

export const ConfirmCheckoutBodySchema = z
  .strictObject({ card_number: z.string().min(12).max(23).openapi({ example: "4242424242424242" }) })
  .openapi("ConfirmTestPayment");
