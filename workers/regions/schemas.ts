import { z } from "@hono/zod-openapi";
import { TAX_PROVIDERS } from "../../db/schema";
import { AmountSchema, CurrencySchema } from "../lib/money";

export const CountrySchema = z
  .string()
  .regex(/^[A-Z]{2}$/, "ISO 3166-1 alpha-2, upper-case")
  .openapi({ example: "DE" });

export const RegionCodeSchema = z
  .string()
  .regex(/^[A-Z0-9_-]{2,32}$/, "2–32 upper-case letters, digits, '-' or '_'")
  .openapi({ param: { name: "code", in: "path" }, example: "EU" });

export const ShippingOptionIdSchema = z
  .string()
  .regex(/^[a-z0-9_]{1,64}$/, "1–64 lower-case letters, digits or '_'")
  .openapi({ param: { name: "option_id", in: "path" }, example: "eu_standard" });

const Countries = z
  .array(CountrySchema)
  .min(1)
  .max(250)
  .refine((list) => new Set(list).size === list.length, "countries must not repeat");

export const CreateRegionBodySchema = z
  .strictObject({
    code: RegionCodeSchema.openapi({ param: undefined }),
    name: z.string().trim().min(1).max(100),
    currency: CurrencySchema,
    tax_inclusive: z
      .boolean()
      .openapi({ description: "Prices include tax (VAT) rather than exclude it (US sales tax)" }),
    tax_provider: z.enum(TAX_PROVIDERS).default("tables").openapi({
      description: "Who computes tax at checkout: the tables below, or Stripe Tax (needs STRIPE_SECRET_KEY)",
    }),
    countries: Countries,
    default_country: CountrySchema.openapi({
      description: "Tax is estimated for it until a cart has an address",
    }),
    position: z.number().int().min(0).max(10_000).default(0).openapi({
      description: "A new cart starts in the lowest-positioned region of its currency",
    }),
  })
  .refine((body) => body.countries.includes(body.default_country), {
    path: ["default_country"],
    message: "default_country must be one of countries",
  })
  .openapi("CreateRegion");

export const UpdateRegionBodySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    tax_inclusive: z.boolean().optional(),
    tax_provider: z.enum(TAX_PROVIDERS).optional(),
    countries: Countries.optional(),
    default_country: CountrySchema.optional(),
    position: z.number().int().min(0).max(10_000).optional(),
  })
  .openapi("UpdateRegion", {
    description: "The currency of a region never changes: create another region instead.",
  });

export const PutTaxRateBodySchema = z
  .strictObject({
    country: CountrySchema,
    subdivision: z
      .string()
      .regex(/^[A-Z0-9]{1,3}$/, "ISO 3166-2 subdivision code without the country, e.g. CA, NY, ON")
      .optional()
      .openapi({ description: "US state, Canadian province …: its rate replaces the country's there" }),
    tax_class: z
      .string()
      .regex(/^[a-z0-9_]{1,32}$/)
      .optional()
      .openapi({ description: "Product tax class (e.g. reduced); omitted: the standard rate" }),
    rate_bp: z.number().int().min(0).max(10_000).openapi({ description: "Basis points: 1900 = 19 %" }),
    name: z.string().trim().min(1).max(100).optional(),
  })
  .openapi("PutTaxRate");

const WeightBandSchema = z.strictObject({
  max_grams: z.number().int().min(1).max(10_000_000),
  amount: AmountSchema,
});

export const ShippingPriceSchema = z
  .discriminatedUnion("type", [
    z.strictObject({ type: z.literal("flat"), amount: AmountSchema }),
    z.strictObject({
      type: z.literal("weight_bands"),
      bands: z
        .array(WeightBandSchema)
        .min(1)
        .max(50)
        .refine(
          (bands) => bands.every((band, i) => i === 0 || band.max_grams > (bands[i - 1]?.max_grams ?? 0)),
          "bands must be in strictly ascending max_grams order",
        ),
    }),
  ])
  .openapi("ShippingPrice");

const shippingOptionFields = {
  name: z.string().trim().min(1).max(100),
  price: ShippingPriceSchema,
  free_over: AmountSchema.nullable()
    .optional()
    .openapi({ description: "Free once goods after discounts reach this amount (region currency)" }),
  countries: z
    .array(CountrySchema)
    .min(1)
    .max(250)
    .nullable()
    .optional()
    .openapi({ description: "Only these countries of the region get the option; null: all of them" }),
  min_days: z.number().int().min(0).max(365),
  max_days: z.number().int().min(0).max(365),
  position: z.number().int().min(0).max(10_000).optional(),
  active: z.boolean().optional(),
};

export const CreateShippingOptionBodySchema = z
  .strictObject({ id: ShippingOptionIdSchema.openapi({ param: undefined }), ...shippingOptionFields })
  .refine((body) => body.min_days <= body.max_days, { path: ["max_days"], message: "max_days < min_days" })
  .openapi("CreateShippingOption");

export const UpdateShippingOptionBodySchema = z
  .strictObject({
    name: shippingOptionFields.name.optional(),
    price: ShippingPriceSchema.optional(),
    free_over: shippingOptionFields.free_over,
    countries: shippingOptionFields.countries,
    min_days: shippingOptionFields.min_days.optional(),
    max_days: shippingOptionFields.max_days.optional(),
    position: shippingOptionFields.position,
    active: shippingOptionFields.active,
  })
  .openapi("UpdateShippingOption");

export const TaxRateSchema = z
  .object({
    id: z.string(),
    country: z.string(),
    subdivision: z.string(),
    tax_class: z.string(),
    rate_bp: z.number().int(),
    name: z.string(),
  })
  .openapi("TaxRate");

export const ShippingOptionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    price: ShippingPriceSchema,
    free_over: z.number().int().nullable(),
    countries: z.array(z.string()).nullable(),
    min_days: z.number().int(),
    max_days: z.number().int(),
    position: z.number().int(),
    active: z.boolean(),
  })
  .openapi("ShippingOption");

export const RegionSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    currency: CurrencySchema,
    tax_inclusive: z.boolean(),
    tax_provider: z.enum(TAX_PROVIDERS),
    default_country: z.string(),
    position: z.number().int(),
    countries: z.array(z.string()),
    tax_rates: z.array(TaxRateSchema).openapi({ description: "Rates of the region's countries" }),
    shipping_options: z.array(ShippingOptionSchema),
  })
  .openapi("Region");

export const RegionListSchema = z.object({ data: z.array(RegionSchema) }).openapi("RegionList");

export type CreateRegionBody = z.infer<typeof CreateRegionBodySchema>;
export type UpdateRegionBody = z.infer<typeof UpdateRegionBodySchema>;
export type PutTaxRateBody = z.infer<typeof PutTaxRateBodySchema>;
export type CreateShippingOptionBody = z.infer<typeof CreateShippingOptionBodySchema>;
export type UpdateShippingOptionBody = z.infer<typeof UpdateShippingOptionBodySchema>;
export type RegionView = z.infer<typeof RegionSchema>;
