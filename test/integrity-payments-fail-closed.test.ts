import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../workers/edge/app";
import { readyCart, stockedSku, stockOf } from "./checkout-fixtures";
import { expectProblem } from "./helpers";

const app = createApp();

/** The edge worker as a deployment with these settings would run it. */
const deployed =
  (overrides: Partial<Env>) =>
  (path: string, init: RequestInit = {}) =>
    app.request(`http://popcart.test${path}`, init, { ...env, ...overrides });

describe("without a payment provider the shop fails closed", () => {
  it("refuses checkout in production without a Stripe key, and /health says why", async () => {
    const production = deployed({ ENVIRONMENT: "production", STRIPE_SECRET_KEY: "" });
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const refused = await production(`/api/carts/${cart.id}/checkout`, {
      method: "POST",
      headers: { ...cart.headers, "idempotency-key": crypto.randomUUID() },
    });
    await expectProblem(refused, 503, "payment_provider_not_configured");
    expect(await stockOf(sku)).toEqual({ available: 5, reserved: 0, sold: 0 });

    const health = await production("/health");
    expect(health.status).toBe(503);
    const report = (await health.json()) as { checks: { payments: { ok: boolean; error?: string } } };
    expect(report.checks.payments).toMatchObject({
      ok: false,
      error: expect.stringContaining("STRIPE_SECRET_KEY"),
    });
    expect(await (await production("/api/config/payments")).json()).toEqual({
      provider: "unavailable",
      publishable_key: null,
    });
  });

  it("uses the test provider outside production only where it is explicitly enabled", async () => {
    const sku = await stockedSku(5);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const start = (overrides: Partial<Env>) =>
      deployed(overrides)(`/api/carts/${cart.id}/checkout`, {
        method: "POST",
        headers: { ...cart.headers, "idempotency-key": crypto.randomUUID() },
      });
    await expectProblem(
      await start({ ENVIRONMENT: "staging", STRIPE_SECRET_KEY: "", PAYMENT_TEST_PROVIDER: "" }),
      503,
      "payment_provider_not_configured",
    );
    await expectProblem(
      await start({ ENVIRONMENT: "production", STRIPE_SECRET_KEY: "", PAYMENT_TEST_PROVIDER: "enabled" }),
      503,
      "payment_provider_not_configured",
    );
    expect((await start({ ENVIRONMENT: "development", PAYMENT_TEST_PROVIDER: "enabled" })).status).toBe(201);
  });
});
