import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { paymentConfiguration } from "./configuration";

const PaymentConfigSchema = z
  .object({
    /** `unavailable`: no provider may take payments here (checkouts answer 503 `payment_provider_not_configured`). */
    provider: z.enum(["stripe", "test", "unavailable"]),
    /** Stripe's publishable key for Stripe.js; null with the test provider. Never a secret. */
    publishable_key: z.string().nullable(),
  })
  .openapi("PaymentConfig");

const paymentConfig = createRoute({
  method: "get",
  path: "/api/config/payments",
  tags: ["Payments"],
  summary: "Which payment provider the storefront talks to, and its publishable key",
  responses: {
    200: {
      description: "Public payment configuration",
      content: { "application/json": { schema: PaymentConfigSchema } },
    },
  },
});

/** Public payment configuration for the storefront. Secrets never leave the worker. */
export const paymentConfigRoutes = createRouter().openapi(paymentConfig, (c) => {
  const configured = paymentConfiguration(c.env);
  const provider = configured.ok ? configured.provider : ("unavailable" as const);
  c.header("cache-control", "public, max-age=60");
  return c.json(
    {
      provider,
      publishable_key: provider === "stripe" ? c.env.STRIPE_PUBLISHABLE_KEY || null : null,
    },
    200,
  );
});
