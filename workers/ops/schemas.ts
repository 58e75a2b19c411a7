import { z } from "@hono/zod-openapi";

export const BindingCheckSchema = z.object({
  ok: z.boolean(),
  latency_ms: z.number(),
  error: z.string().optional(),
});

export const CircuitSchema = z
  .object({
    state: z.enum(["closed", "open", "half_open"]),
    failures: z.number().int().openapi({ description: "Consecutive failures counted" }),
    retry_after_ms: z.number().int().openapi({ description: "Until the next trial call (open only)" }),
  })
  .openapi("Circuit");

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
    circuits: z.record(z.string(), CircuitSchema).openapi({
      description:
        "Circuit breakers this isolate has used (`d1`, `payment:<provider>`): state is per isolate, see README.md#degraded-modes",
    }),
  })
  .openapi("Health");
