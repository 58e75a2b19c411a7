import { z } from "@hono/zod-openapi";
import { CurrencySchema, MoneySchema } from "../lib/money";
import { orNull } from "../lib/schemas";
import { PromotionCodeSchema } from "../promotions/schemas";

/** Sane bounds: a cart is a shopping basket, not a bulk-order channel. */
export const MAX_LINE_QUANTITY = 99;
export const MAX_LINES = 50;
export const MAX_PROMOTION_CODES = 3;

export const CartIdSchema = z
  .string()
  .regex(/^cart_[0-9a-z]{20}$/)
  .openapi({ param: { name: "id", in: "path" }, example: "cart_0123456789abcdefghjk" });

export const LineIdSchema = z
  .string()
  .regex(/^line_[0-9a-z]{20}$/)
  .openapi({ param: { name: "line_id", in: "path" } });

export const SkuSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '-' and '_' only")
  .openapi({ example: "TEE-BLK-M" });

export const EmailSchema = z
  .string()
  .trim()
  .max(254)
  .email()
  .transform((email) => email.toLowerCase());

export const AddLineBodySchema = z
  .strictObject({ sku: SkuSchema, quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY).default(1) })
  .openapi("AddCartLine");

export const UpdateLineBodySchema = z
  .strictObject({
    quantity: z
      .number()
      .int()
      .min(0)
      .max(MAX_LINE_QUANTITY)
      .openapi({ description: "New quantity; 0 removes the line" }),
  })
  .openapi("UpdateCartLine");

export const SetEmailBodySchema = z.strictObject({ email: EmailSchema }).openapi("SetCartEmail");

const Text = (max: number) => z.string().trim().min(1).max(max);

export const AddressSchema = z
  .strictObject({
    name: Text(120),
    line1: Text(200),
    line2: z.string().trim().max(200).optional(),
    city: Text(100),
    region: z.string().trim().max(100).optional().openapi({ description: "State, province or county" }),
    postal_code: Text(20),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, "ISO 3166-1 alpha-2, upper-case")
      .openapi({ example: "US" }),
    phone: z
      .string()
      .regex(/^\+?[0-9 ()-]{5,24}$/)
      .optional(),
  })
  .openapi("Address");

export type Address = z.infer<typeof AddressSchema>;

const ShippingMethodIdSchema = z.string().min(1).max(64);

/**
 * A whole cart in one call (as Shopify's `cartCreate` and Medusa's cart creation take it):
 * everything a checkout needs, so a purchase is three requests (create, check out, confirm).
 */
export const CreateCartBodySchema = z
  .strictObject({
    currency: CurrencySchema,
    email: EmailSchema.optional(),
    lines: z
      .array(AddLineBodySchema)
      .max(MAX_LINES)
      .optional()
      .openapi({
        description: `Lines to add, at most ${MAX_LINES}; a SKU listed twice is one line with the summed quantity`,
      }),
    shipping_address: AddressSchema.optional().openapi({
      description:
        "Picks the cart's region: the country must be one a region selling in `currency` ships to (`address_outside_region` otherwise)",
    }),
    shipping_method: ShippingMethodIdSchema.optional().openapi({
      description:
        "Id of a shipping option of that region that serves the destination and takes the goods' weight (see a cart's `shipping_methods`)",
      example: "us_standard",
    }),
  })
  .openapi("CreateCart");

export type CreateCartInput = z.infer<typeof CreateCartBodySchema>;

export const SetShippingMethodBodySchema = z
  .strictObject({ id: ShippingMethodIdSchema })
  .openapi("SetShippingMethod");

export const AddPromotionBodySchema = z.strictObject({ code: PromotionCodeSchema }).openapi("ApplyPromotion");

export const ShippingMethodSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    amount: MoneySchema.openapi({
      description: "What this option costs this cart (0 once free_over is reached)",
    }),
    free_over: MoneySchema.nullable().openapi({
      description: "Free when goods after discounts reach this amount; null: never free",
    }),
    min_days: z.number().openapi({ description: "Delivery estimate: fewest business days" }),
    max_days: z.number().openapi({ description: "Delivery estimate: most business days" }),
  })
  .openapi("ShippingMethod");

export const CartLineSchema = z
  .object({
    id: z.string(),
    sku: z.string(),
    quantity: z.number().int(),
    title: z.string().nullable(),
    variant_title: z.string().nullable(),
    unit_price: MoneySchema,
    subtotal: MoneySchema.openapi({ description: "unit_price × quantity, before discounts" }),
    discount: MoneySchema,
    tax: MoneySchema,
    tax_rate_bp: z
      .number()
      .int()
      .openapi({ description: "Rate the line is taxed at, basis points (1900 = 19 %)" }),
    total: MoneySchema,
    available: z.boolean().openapi({ description: "false when the SKU can no longer be bought" }),
    price_changed: z
      .object({ previous: MoneySchema, current: MoneySchema })
      .nullable()
      .openapi({ description: "Set when the price changed since the line was added or last updated" }),
    reservation: z
      .object({ id: z.string(), expires_at: z.string() })
      .nullable()
      .openapi({ description: "Stock held for this line (flash-sale SKUs reserve at add-to-cart)" }),
  })
  .openapi("CartLine");

export const CartPromotionSchema = z
  .object({
    code: z.string(),
    applied: z.boolean(),
    reason: z.string().nullable().openapi({ description: "Why the code takes nothing off right now" }),
    discount: MoneySchema,
  })
  .openapi("CartPromotion");

export const CartTotalsSchema = z
  .object({
    subtotal: MoneySchema,
    discount: MoneySchema,
    shipping: MoneySchema,
    tax: MoneySchema,
    total: MoneySchema,
    tax_inclusive: z.boolean(),
    tax_lines: z
      .array(z.object({ name: z.string(), rate_bp: z.number().int(), amount: MoneySchema }))
      .openapi({ description: "Tax grouped by rate (goods and shipping), e.g. VAT 19 %" }),
  })
  .openapi("CartTotals");

export const CartSchema = z
  .object({
    id: z.string(),
    status: z.enum(["open", "checking_out", "completed"]),
    currency: CurrencySchema,
    region: z.string().openapi({ description: "Selling region; follows the shipping country" }),
    email: z.string().nullable(),
    shipping_address: orNull(AddressSchema),
    shipping_method: orNull(ShippingMethodSchema),
    shipping_methods: z.array(ShippingMethodSchema),
    lines: z.array(CartLineSchema),
    promotions: z.array(CartPromotionSchema),
    totals: CartTotalsSchema,
    expires_at: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Cart");

export type CartView = z.infer<typeof CartSchema>;

export const CreatedCartSchema = CartSchema.extend({
  token: z.string().openapi({ description: "Secret cart token: send it as X-Cart-Token on every cart call" }),
}).openapi("CreatedCart");
