import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setStock } from "../workers/inventory/service";
import { body, checkout } from "./checkout-fixtures";
import { callJson, expectProblem } from "./helpers";
import {
  addressIn,
  admin,
  cartWith,
  createRegion,
  ok,
  setAddress,
  setMethod,
  suffix,
} from "./regions-fixtures";
import { seedSku } from "./revenue-fixtures";

describe("region configuration freshness", () => {
  it("charges the rate in D1 at checkout even when another isolate changed it behind this one's cache", async () => {
    const code = await createRegion({
      code: "CA",
      name: "Canada",
      currency: "USD",
      tax_inclusive: false,
      countries: ["CA"],
      default_country: "CA",
      position: 80,
    });
    await ok(await admin(`/${code}/tax-rates`, "PUT", { country: "CA", rate_bp: 500, name: "GST" }));
    await ok(
      await admin(`/${code}/tax-rates`, "PUT", {
        country: "CA",
        subdivision: "ON",
        rate_bp: 1300,
        name: "HST",
      }),
    );
    const method = `ca_post_${suffix().toLowerCase()}`;
    await ok(
      await admin(`/${code}/shipping-options`, "POST", {
        id: method,
        name: "Post",
        price: { type: "flat", amount: 0 },
        min_days: 3,
        max_days: 8,
      }),
      201,
    );
    const { sku } = await seedSku({ USD: 10_000 });
    await setStock(env, { sku, onHand: 3, reason: "test stock", key: `stock:${sku}` });
    const cart = await cartWith("USD", [{ sku, quantity: 1 }]);
    await callJson(`/api/carts/${cart.id}/email`, "PUT", { email: "on@example.com" }, cart.headers);
    const alberta = await ok(await setAddress(cart, addressIn("CA", "AB")));
    expect(alberta.totals.tax.amount).toBe(500);
    const ontario = await ok(await setAddress(cart, addressIn("CA", "ON")));
    expect(ontario.totals).toMatchObject({ tax: { amount: 1300 }, total: { amount: 11_300 } });
    await ok(await setMethod(cart, method));

    // Another isolate's admin write: the same batch as the admin API (rate + new version), but
    // nothing here is told, so this isolate's cached snapshot is now stale.
    await env.DB.batch([
      env.DB.prepare("UPDATE tax_rates SET rate_bp = 1500 WHERE country = 'CA' AND subdivision = 'ON'"),
      env.DB.prepare("UPDATE sequences SET value = value + 7 WHERE name = 'region_config'"),
    ]);
    const started = await body(await checkout(cart));
    expect(started.totals.total).toEqual({ amount: 11_500, currency: "USD" });

    // Removing the province's rate falls back to the country's for the next cart.
    const listed = await ok<{ tax_rates: { id: string; subdivision: string }[] }>(
      await admin(`/${code}`, "GET"),
    );
    const ontarioRate = listed.tax_rates.find((rate) => rate.subdivision === "ON")?.id as string;
    const removed = await ok<{ tax_rates: unknown[] }>(
      await admin(`/${code}/tax-rates/${ontarioRate}`, "DELETE"),
    );
    expect(removed.tax_rates).toHaveLength(1);
    await expectProblem(
      await admin(`/${code}/tax-rates/${ontarioRate}`, "DELETE"),
      404,
      "tax_rate_not_found",
    );
    const next = await cartWith("USD", [{ sku, quantity: 1 }]);
    expect((await ok(await setAddress(next, addressIn("CA", "ON")))).totals.tax.amount).toBe(500);
  });
});
