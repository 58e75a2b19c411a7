import { z } from "@hono/zod-openapi";

export const BindingCheckSchema = z.object({
  ok: z.boolean(),
  latency_ms: z.number(),
  error: z.string().optional(),
});

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    version: z.object({
      id: z.string().openapi({ description: "Worker version id (version metadata binding)" }),
      tag: z.string().openapi({ description: "Version tag, empty when untagged" }),
      timestamp: z.string(),
    }),
    environment: z.string(),
    checks: z.record(z.string(), BindingCheckSchema),
  })
  .openapi("Health");
