import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setStock } from "../workers/inventory/service";
import { body, CARDS, checkout, confirm } from "./checkout-fixtures";
import { ADMIN, call, callJson, expectProblem } from "./helpers";
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

interface RegionBody {
  code: string;
  countries: string[];
  tax_rates: { country: string; subdivision: string; tax_class: string; rate_bp: number }[];
  shipping_options: { id: string; free_over: number | null; price: { type: string } }[];
}

interface OrderBody {
  region: string | null;
  tax_total: { amount: number };
  total: { amount: number };
  tax_lines: {
    line: number | null;
    country: string;
    rate_bp: number;
    taxable_amount: { amount: number };
    amount: { amount: number };
    provider: string;
  }[];
}

const region = (overrides: Record<string, unknown> = {}) => ({
  code: `X-${suffix()}`,
  name: "Test region",
  currency: "EUR",
  tax_inclusive: true,
  countries: ["MT"],
  default_country: "MT",
  ...overrides,
});

describe("regions admin API", () => {
  // Issue 19's "Done when", end to end through the public API with the test payment provider.
  it("lets a merchant add a country, set its VAT, add threshold and weight-band shipping, and sell there; a Berlin cart moved to Paris checks out at 20 %", async () => {
    const code = await createRegion({
      code: "BALKAN",
      name: "Croatia",
      currency: "EUR",
      tax_inclusive: true,
      countries: ["HR"],
      default_country: "HR",
      position: 60,
    });
    const widened = await ok<RegionBody>(await admin(`/${code}`, "PATCH", { countries: ["HR", "SI"] }));
    expect(widened.countries).toEqual(["HR", "SI"]);
    await ok(await admin(`/${code}/tax-rates`, "PUT", { country: "SI", rate_bp: 2200 }));
    const storefront = await (await call("/checkout")).text();
    expect(storefront).toContain('<option value="SI">Slovenia</option>');
    const standard = `si_standard_${suffix().toLowerCase()}`;
    const parcel = `si_parcel_${suffix().toLowerCase()}`;
    await ok(
      await admin(`/${code}/shipping-options`, "POST", {
        id: standard,
        name: "Standard",
        price: { type: "flat", amount: 600 },
        free_over: 10_000,
        min_days: 2,
        max_days: 5,
      }),
      201,
    );
    const configured = await ok<RegionBody>(
      await admin(`/${code}/shipping-options`, "POST", {
        id: parcel,
        name: "Parcel",
        price: {
          type: "weight_bands",
          bands: [
            { max_grams: 2000, amount: 450 },
            { max_grams: 10_000, amount: 950 },
          ],
        },
        min_days: 3,
        max_days: 6,
      }),
      201,
    );
    expect(configured.tax_rates).toEqual([
      expect.objectContaining({ country: "SI", subdivision: "", tax_class: "", rate_bp: 2200 }),
    ]);
    expect(
      configured.shipping_options.map((option) => [option.id, option.price.type, option.free_over]),
    ).toEqual([
      [standard, "flat", 10_000],
      [parcel, "weight_bands", null],
    ]);

    const { sku } = await seedSku({ EUR: 6100 }, { weightGrams: 1500 });
    const stocked = await setStock(env, { sku, onHand: 5, reason: "test stock", key: `stock:${sku}` });
    expect(stocked.ok).toBe(true);
    const cart = await cartWith("EUR", [{ sku, quantity: 2 }]);
    await callJson(`/api/carts/${cart.id}/email`, "PUT", { email: "kupec@example.com" }, cart.headers);
    const inSlovenia = await ok(await setAddress(cart, { ...addressIn("SI"), city: "Ljubljana" }));
    expect(inSlovenia.region).toBe(code);
    // 12200 of goods: over the threshold, Standard is free; 3 kg of goods puts Parcel in its second band.
    expect(inSlovenia.shipping_methods.map((method) => [method.id, method.amount.amount])).toEqual([
      [standard, 0],
      [parcel, 950],
    ]);
    const priced = await ok(await setMethod(cart, parcel));
    // 12200 at 22 % holds 2200; 950 holds 171 (per amount, half-up).
    expect(priced.totals).toMatchObject({
      subtotal: { amount: 12_200 },
      shipping: { amount: 950 },
      tax: { amount: 2371 },
      total: { amount: 13_150 },
    });

    const started = await body(await checkout(cart));
    expect(started.payment?.provider).toBe("test");
    expect(started.totals.total).toEqual({ amount: 13_150, currency: "EUR" });
    const paid = await body(await confirm(cart, started.id, CARDS.ok));
    expect(paid.status).toBe("completed");
    const order = await ok<OrderBody>(
      await call(`/api/orders/${paid.order?.id}?token=${paid.order?.lookup_token}`),
    );
    expect(order).toMatchObject({ region: code, tax_total: { amount: 2371 }, total: { amount: 13_150 } });
    expect(order.tax_lines).toEqual([
      expect.objectContaining({
        line: 0,
        country: "SI",
        rate_bp: 2200,
        taxable_amount: { amount: 12_200, currency: "EUR" },
        amount: { amount: 2200, currency: "EUR" },
        provider: "tables",
      }),
      expect.objectContaining({
        line: null,
        country: "SI",
        rate_bp: 2200,
        taxable_amount: { amount: 950, currency: "EUR" },
        amount: { amount: 171, currency: "EUR" },
        provider: "tables",
      }),
    ]);

    // The order keeps what it was charged: a later rate change touches new carts only.
    await ok(await admin(`/${code}/tax-rates`, "PUT", { country: "SI", rate_bp: 2500 }));
    const again = await ok<OrderBody>(
      await call(`/api/orders/${paid.order?.id}?token=${paid.order?.lookup_token}`),
    );
    expect(again.tax_lines.map((line) => line.rate_bp)).toEqual([2200, 2200]);

    // A cart moving from Berlin to Paris re-prices from 19 % to 20 % and is charged the Paris rate.
    const { sku: jacket } = await seedSku({ EUR: 26_600 });
    expect(
      (await setStock(env, { sku: jacket, onHand: 1, reason: "test stock", key: `s:${jacket}` })).ok,
    ).toBe(true);
    const moving = await cartWith("EUR", [{ sku: jacket, quantity: 1 }]);
    await callJson(`/api/carts/${moving.id}/email`, "PUT", { email: "paris@example.com" }, moving.headers);
    await ok(await setAddress(moving, addressIn("DE")));
    const berlin = await ok(await setMethod(moving, "eu_standard"));
    expect(berlin.lines[0]?.tax_rate_bp).toBe(1900);
    expect(berlin.totals).toMatchObject({ tax: { amount: 4327 }, total: { amount: 27_099 } });
    const paris = await ok(
      await setAddress(moving, { ...addressIn("FR"), city: "Paris", postal_code: "75001" }),
    );
    expect(paris.region).toBe("EU");
    expect(paris.lines[0]?.tax_rate_bp).toBe(2000);
    // 26600 at 20 % holds 4433, 499 holds 83; prices include VAT, so the total stays.
    expect(paris.totals).toMatchObject({ tax: { amount: 4516 }, total: { amount: 27_099 } });
    const parisCheckout = await body(await checkout(moving));
    const parisPaid = await body(await confirm(moving, parisCheckout.id, CARDS.ok));
    expect(parisPaid.status).toBe("completed");
    const parisOrder = await ok<OrderBody>(
      await call(`/api/orders/${parisPaid.order?.id}?token=${parisPaid.order?.lookup_token}`),
    );
    expect(parisOrder).toMatchObject({
      region: "EU",
      tax_total: { amount: 4516 },
      total: { amount: 27_099 },
    });
    expect(parisOrder.tax_lines.map((line) => [line.country, line.rate_bp, line.amount.amount])).toEqual([
      ["FR", 2000, 4433],
      ["FR", 2000, 83],
    ]);
  });

  it("answers validation problems with the failing fields", async () => {
    const badCountry = await expectProblem(
      await admin("", "POST", region({ countries: ["de"] })),
      422,
      "validation_failed",
    );
    expect(badCountry.errors?.map((error) => error.path)).toContain("body.countries.0");
    const badDefault = await expectProblem(
      await admin("", "POST", region({ default_country: "FR" })),
      422,
      "validation_failed",
    );
    expect(badDefault.errors?.map((error) => error.path)).toContain("body.default_country");
    await expectProblem(await admin("", "POST", region({ currency: "XXX" })), 422, "validation_failed");
    const code = await createRegion(region({ code: "VAL", countries: ["CY"], default_country: "CY" }));
    await expectProblem(await admin(`/${code}`, "PATCH", { currency: "USD" }), 422, "validation_failed");
    const unsorted = await expectProblem(
      await admin(`/${code}/shipping-options`, "POST", {
        id: "cy_bands",
        name: "Bands",
        price: {
          type: "weight_bands",
          bands: [
            { max_grams: 5000, amount: 900 },
            { max_grams: 1000, amount: 500 },
          ],
        },
        min_days: 1,
        max_days: 2,
      }),
      422,
      "validation_failed",
    );
    expect(unsorted.errors?.map((error) => error.path)).toContain("body.price.bands");
    const days = await expectProblem(
      await admin(`/${code}/shipping-options`, "POST", {
        id: "cy_days",
        name: "Days",
        price: { type: "flat", amount: 100 },
        min_days: 5,
        max_days: 2,
      }),
      422,
      "validation_failed",
    );
    expect(days.errors?.map((error) => error.path)).toContain("body.max_days");
    const outside = await expectProblem(
      await admin(`/${code}/shipping-options`, "POST", {
        id: "cy_outside",
        name: "Outside",
        price: { type: "flat", amount: 100 },
        countries: ["DE"],
        min_days: 1,
        max_days: 2,
      }),
      422,
      "validation_failed",
    );
    expect(outside.errors?.map((error) => error.path)).toEqual(["body.countries"]);
    await expectProblem(
      await admin(`/${code}/tax-rates`, "PUT", { country: "DE", rate_bp: 1900 }),
      422,
      "country_not_in_region",
    );
    await expectProblem(
      await admin(`/${code}/tax-rates`, "PUT", { country: "CY", rate_bp: 10_001 }),
      422,
      "validation_failed",
    );
  });

  it("refuses conflicting codes, countries and option ids, and unknown regions", async () => {
    const code = await createRegion(region({ code: "DUP", countries: ["EE"], default_country: "EE" }));
    await expectProblem(
      await admin("", "POST", region({ code, countries: ["LV"], default_country: "LV" })),
      409,
      "region_code_taken",
    );
    const taken = await expectProblem(
      await admin("", "POST", region({ countries: ["DE"], default_country: "DE" })),
      409,
      "country_in_other_region",
    );
    expect(taken).toMatchObject({ country: "DE", region: "EU" });
    await expectProblem(
      await admin(`/${code}`, "PATCH", { countries: ["EE", "FR"] }),
      409,
      "country_in_other_region",
    );
    await expectProblem(
      await admin(`/${code}/shipping-options`, "POST", {
        id: "eu_standard",
        name: "Copy",
        price: { type: "flat", amount: 1 },
        min_days: 1,
        max_days: 1,
      }),
      409,
      "shipping_option_id_taken",
    );
    await expectProblem(await admin("/NOPE-NOPE", "GET"), 404, "region_not_found");
    await expectProblem(
      await admin("/NOPE-NOPE/shipping-options/eu_standard", "PATCH", { name: "x" }),
      404,
      "shipping_option_not_found",
    );
  });

  it("requires an admin token with the regions scope", async () => {
    await expectProblem(await call("/admin/api/regions"), 401, "unauthorized");
    await expectProblem(
      await call("/admin/api/regions", { headers: { authorization: "Bearer catalog-reader-token" } }),
      403,
      "forbidden",
    );
    const list = await ok<{ data: RegionBody[] }>(await call("/admin/api/regions", { headers: ADMIN }));
    const eu = list.data.find((entry) => entry.code === "EU");
    expect(eu?.tax_rates).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ country: "DE", tax_class: "", rate_bp: 1900 }),
        expect.objectContaining({ country: "NL", tax_class: "", rate_bp: 2100 }),
        expect.objectContaining({ country: "IE", tax_class: "", rate_bp: 2300 }),
      ]),
    );
  });

  it("withdraws a deactivated option from carts and from checkout", async () => {
    const code = await createRegion(region({ code: "OFF", countries: ["LT"], default_country: "LT" }));
    const id = `lt_post_${suffix().toLowerCase()}`;
    await ok(
      await admin(`/${code}/shipping-options`, "POST", {
        id,
        name: "Post",
        price: { type: "flat", amount: 300 },
        min_days: 2,
        max_days: 3,
      }),
      201,
    );
    const { sku } = await seedSku({ EUR: 1000 });
    const cart = await cartWith("EUR", [{ sku, quantity: 1 }]);
    await ok(await setAddress(cart, addressIn("LT")));
    await ok(await setMethod(cart, id));
    await ok(await admin(`/${code}/shipping-options/${id}`, "PATCH", { active: false }));
    const after = await ok(await callJson(`/api/carts/${cart.id}`, "GET", undefined, cart.headers));
    expect(after.shipping_methods).toEqual([]);
    expect(after.shipping_method).toBeNull();
    await callJson(`/api/carts/${cart.id}/email`, "PUT", { email: "lt@example.com" }, cart.headers);
    await expectProblem(await checkout(cart), 422, "unknown_shipping_method");
  });

  it("publishes the regions API in the OpenAPI document", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, object>;
      components: { schemas: Record<string, object> };
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/admin/api/regions",
        "/admin/api/regions/{code}",
        "/admin/api/regions/{code}/tax-rates",
        "/admin/api/regions/{code}/shipping-options",
        "/admin/api/regions/{code}/shipping-options/{option_id}",
      ]),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Region", "ShippingPrice", "OrderTaxLine"]),
    );
  });
});
