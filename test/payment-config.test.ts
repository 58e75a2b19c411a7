import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../workers/edge/app";
import { call } from "./helpers";

describe("public payment configuration", () => {
  it("tells the storefront to use the test provider when Stripe is not configured", async () => {
    const res = await call("/api/config/payments");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ provider: "test", publishable_key: null });
  });

  it("exposes only the publishable key when Stripe is configured, never a secret", async () => {
    const stripeEnv = {
      ...env,
      STRIPE_SECRET_KEY: "sk_test_secret_value",
      STRIPE_PUBLISHABLE_KEY: "pk_test_public_value",
      STRIPE_WEBHOOK_SECRET: "whsec_secret_value",
    };
    const res = await createApp().request("/api/config/payments", {}, stripeEnv);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ provider: "stripe", publishable_key: "pk_test_public_value" });
    expect(text).not.toContain("sk_test");
    expect(text).not.toContain("whsec");
  });
});
