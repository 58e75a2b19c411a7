import { z } from "@hono/zod-openapi";

export const DISCREPANCY_KINDS = [
  "committed_without_order",
  "committed_for_refunded_order",
  "order_without_stock",
  "orphaned_hold",
  "charge_without_order",
  "counters",
] as const;

export const DiscrepancySchema = z
  .object({
    kind: z.enum(DISCREPANCY_KINDS).openapi({
      description:
        "`committed_without_order`: units sold to a checkout that has no order (repairable: re-drive its completion). " +
        "`committed_for_refunded_order`: units still sold to a cancelled or stock-lost order. " +
        "`order_without_stock`: an order line with fewer units committed to it. " +
        "`orphaned_hold`: units held for a cart that neither has a line nor a live checkout using them (repairable: release). " +
        "`charge_without_order`: a succeeded payment without an order (repairable: re-drive the completion). " +
        "`counters`: an inventory object's counters disagree with its ledger or transfers.",
    }),
    sku: z.string().nullable(),
    checkout_id: z.string().nullable(),
    reservation_id: z.string().nullable(),
    order_id: z.string().nullable(),
    cart_id: z.string().nullable(),
    payment_id: z.string().nullable(),
    quantity: z.number().int().nullable(),
    repairable: z.boolean(),
    detail: z.string(),
  })
  .openapi("AuditDiscrepancy");
export type Discrepancy = z.infer<typeof DiscrepancySchema>;

export const AuditReportSchema = z
  .object({
    generated_at: z.string(),
    window_hours: z.number(),
    min_age_seconds: z
      .number()
      .int()
      .openapi({ description: "Younger activity is in flight and not judged." }),
    skus: z.array(
      z.object({
        sku: z.string(),
        on_hand: z.number().int(),
        available: z.number().int(),
        reserved: z.number().int(),
        sold: z.number().int(),
      }),
    ),
    discrepancies: z.array(DiscrepancySchema),
  })
  .openapi("AuditReport");
export type AuditReport = z.infer<typeof AuditReportSchema>;

export const RepairActionSchema = z.object({
  discrepancy: DiscrepancySchema,
  result: z.enum([
    "completion_redriven",
    "released_hold",
    "pending",
    "still_in_use",
    "not_repairable",
    "failed",
  ]),
  error: z.string().optional(),
});
export type RepairAction = z.infer<typeof RepairActionSchema>;

export const RepairReportSchema = z
  .object({ actions: z.array(RepairActionSchema), after: AuditReportSchema })
  .openapi("AuditRepairReport");
export type RepairReport = z.infer<typeof RepairReportSchema>;

export const AuditQuerySchema = z.object({
  sku: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ description: "Audit only this SKU (default: every SKU with activity in the window)." }),
  min_age_seconds: z.coerce
    .number()
    .int()
    .min(0)
    .max(3600)
    .optional()
    .openapi({ description: "Judge only activity at least this old (default 60)." }),
});
