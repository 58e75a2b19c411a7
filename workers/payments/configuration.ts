/**
 * Which payment provider this deployment may take money with. Stripe whenever a secret key is
 * set. Without one, the offline test provider (any 4242… card "pays") only where it was
 * explicitly enabled (`PAYMENT_TEST_PROVIDER=enabled`) and never in production: a
 * production deploy that lost its Stripe secret refuses checkouts instead of giving goods away.
 */
export type PaymentConfiguration = { ok: true; provider: "stripe" | "test" } | { ok: false; reason: string };

export function paymentConfiguration(env: Env): PaymentConfiguration {
  if (env.STRIPE_SECRET_KEY) return { ok: true, provider: "stripe" };
  if (env.ENVIRONMENT === "production") {
    return {
      ok: false,
      reason: "STRIPE_SECRET_KEY is not set; production never falls back to the test provider.",
    };
  }
  if (env.PAYMENT_TEST_PROVIDER !== "enabled") {
    return {
      ok: false,
      reason:
        "STRIPE_SECRET_KEY is not set and the offline test provider is not enabled (PAYMENT_TEST_PROVIDER=enabled, outside production only).",
    };
  }
  return { ok: true, provider: "test" };
}
