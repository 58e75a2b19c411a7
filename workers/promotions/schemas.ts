import { z } from "@hono/zod-openapi";
import { CurrencySchema, MoneySchema } from "../lib/money";
import { orNull } from "../lib/schemas";

/** Codes are case-insensitive for shoppers and stored upper-case. */
export const PromotionCodeSchema = z
  .string()
  .trim()
  .min(3)
  .max(32)
  .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, '-' and '_' only")
  .transform((code) => code.toUpperCase())
  .openapi({ example: "SUMMER10" });

const Timestamp = z.string().datetime({ offset: true });

export const CreatePromotionBodySchema = z
  .strictObject({
    code: PromotionCodeSchema,
    type: z.enum(["percentage", "fixed_amount"]),
    percentage_bp: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .openapi({ description: "Percentage codes: basis points off the subtotal (1000 = 10 %)" }),
    amount_off: MoneySchema.optional().openapi({ description: "Fixed-amount codes: amount off" }),
    minimum_subtotal: MoneySchema.optional(),
    starts_at: Timestamp.optional(),
    ends_at: Timestamp.optional(),
    usage_limit: z.number().int().min(1).max(100_000_000).optional(),
    per_customer_limit: z.number().int().min(1).max(1_000).optional(),
    active: z.boolean().default(true),
  })
  .superRefine((body, ctx) => {
    if (body.type === "percentage" && body.percentage_bp === undefined) {
      ctx.addIssue({ code: "custom", path: ["percentage_bp"], message: "required for percentage codes" });
    }
    if (body.type === "percentage" && body.amount_off !== undefined) {
      ctx.addIssue({ code: "custom", path: ["amount_off"], message: "only for fixed_amount codes" });
    }
    if (body.type === "fixed_amount" && body.amount_off === undefined) {
      ctx.addIssue({ code: "custom", path: ["amount_off"], message: "required for fixed_amount codes" });
    }
    if (body.type === "fixed_amount" && body.percentage_bp !== undefined) {
      ctx.addIssue({ code: "custom", path: ["percentage_bp"], message: "only for percentage codes" });
    }
    if (body.amount_off && body.amount_off.amount < 1) {
      ctx.addIssue({ code: "custom", path: ["amount_off", "amount"], message: "must be positive" });
    }
    if (
      body.amount_off &&
      body.minimum_subtotal &&
      body.amount_off.currency !== body.minimum_subtotal.currency
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["minimum_subtotal", "currency"],
        message: "must match amount_off",
      });
    }
    if (body.starts_at && body.ends_at && Date.parse(body.starts_at) >= Date.parse(body.ends_at)) {
      ctx.addIssue({ code: "custom", path: ["ends_at"], message: "must be after starts_at" });
    }
  })
  .openapi("CreatePromotion");

export type CreatePromotionBody = z.infer<typeof CreatePromotionBodySchema>;

export const PromotionSchema = z
  .object({
    id: z.string(),
    code: z.string(),
    type: z.enum(["percentage", "fixed_amount"]),
    percentage_bp: z.number().int().nullable(),
    amount_off: orNull(MoneySchema),
    currency: CurrencySchema.nullable(),
    minimum_subtotal: orNull(MoneySchema),
    starts_at: z.string().nullable(),
    ends_at: z.string().nullable(),
    usage_limit: z.number().int().nullable(),
    per_customer_limit: z.number().int().nullable(),
    times_used: z.number().int().openapi({ description: "Uses held by open checkouts plus redeemed uses" }),
    active: z.boolean(),
    created_at: z.string(),
  })
  .openapi("Promotion");

export type PromotionView = z.infer<typeof PromotionSchema>;

export const PromotionListSchema = z
  .object({ data: z.array(PromotionSchema), next_cursor: z.string().nullable() })
  .openapi("PromotionList");
