import { describe, expect, it } from "vitest";
import { checkout } from "./checkout-fixtures";
import { callJson, expectProblem } from "./helpers";
import {
  addLine,
  addressIn,
  admin,
  cartWith,
  createRegion,
  ok,
  setAddress,
  setMethod,
  viewCart,
} from "./regions-fixtures";
import { seedSku } from "./revenue-fixtures";

/**
 * A EUR region of its own, so these tests never touch the seeded regions. Each test takes a
 * different country: a country belongs to one region, and D1 is shared within the file.
 */
async function regionFor(country: string, options: object[]): Promise<string> {
  const code = await createRegion({
    code: country,
    name: country,
    currency: "EUR",
    tax_inclusive: true,
    countries: [country],
    default_country: country,
    position: 50,
  });
  await ok(await admin(`/${code}/tax-rates`, "PUT", { country, rate_bp: 2300 }));
  for (const option of options) await ok(await admin(`/${code}/shipping-options`, "POST", option), 201);
  return code;
}

describe("shipping options as data", () => {
  it("makes an option free once the discounted goods reach its threshold, and shows the threshold", async () => {
    const code = await regionFor("PL", [
      {
        id: `pl_post_${crypto.randomUUID().slice(0, 6)}`,
        name: "Poczta",
        price: { type: "flat", amount: 700 },
        free_over: 5000,
        min_days: 2,
        max_days: 4,
      },
    ]);
    const { sku } = await seedSku({ EUR: 2000 });
    const cart = await cartWith("EUR", [{ sku, quantity: 2 }]);
    const moved = await ok(await setAddress(cart, addressIn("PL")));
    expect(moved.region).toBe(code);
    const optionId = moved.shipping_methods[0]?.id as string;
    const below = await ok(await setMethod(cart, optionId));
    expect(below.shipping_method).toMatchObject({
      amount: { amount: 700, currency: "EUR" },
      free_over: { amount: 5000 },
      min_days: 2,
      max_days: 4,
    });
    expect(below.totals).toMatchObject({ shipping: { amount: 700 }, total: { amount: 4700 } });
    const above = await ok(await addLine(cart, sku, 1));
    expect(above.totals).toMatchObject({ shipping: { amount: 0 }, total: { amount: 6000 } });
    expect(above.shipping_method?.amount.amount).toBe(0);
  });

  it("prices weight-band options by cart weight and withdraws them beyond the last band", async () => {
    const id = `pl_freight_${crypto.randomUUID().slice(0, 6)}`;
    await regionFor("CZ", [
      {
        id,
        name: "Freight",
        price: {
          type: "weight_bands",
          bands: [
            { max_grams: 1000, amount: 500 },
            { max_grams: 5000, amount: 900 },
          ],
        },
        min_days: 3,
        max_days: 6,
      },
    ]);
    const { sku } = await seedSku({ EUR: 1000 }, { weightGrams: 400 });
    const cart = await cartWith("EUR", [{ sku, quantity: 2 }]);
    await ok(await setAddress(cart, addressIn("CZ")));
    const light = await ok(await setMethod(cart, id));
    expect(light.totals.shipping.amount).toBe(500);
    const line = light.lines[0]?.id as string;
    const heavier = await ok(
      await callJson(`/api/carts/${cart.id}/lines/${line}`, "PATCH", { quantity: 5 }, cart.headers),
    );
    expect(heavier.totals.shipping.amount).toBe(900);
    // 13 × 400 g = 5.2 kg: beyond the last band, the option is no longer offered or charged.
    const tooHeavy = await ok(
      await callJson(`/api/carts/${cart.id}/lines/${line}`, "PATCH", { quantity: 13 }, cart.headers),
    );
    expect(tooHeavy.shipping_methods.map((method) => method.id)).not.toContain(id);
    expect(tooHeavy.shipping_method).toBeNull();
    const refused = await expectProblem(await setMethod(cart, id), 422, "shipping_method_unavailable");
    expect(refused).toMatchObject({ why: "too_heavy", id });
    await callJson(`/api/carts/${cart.id}/email`, "PUT", { email: "heavy@example.com" }, cart.headers);
    await expectProblem(await checkout(cart), 422, "shipping_method_unavailable");
  });

  it("refuses express to a country it does not serve with a stable code, and drops it when the cart moves there", async () => {
    const { sku } = await seedSku({ EUR: 5000 });
    const dublin = await cartWith("EUR", [{ sku, quantity: 1 }]);
    const irish = await ok(await setAddress(dublin, addressIn("IE")));
    expect(irish.shipping_methods.map((method) => method.id)).toEqual(["eu_standard"]);
    const problem = await expectProblem(
      await setMethod(dublin, "eu_express"),
      422,
      "shipping_method_unavailable",
    );
    expect(problem).toMatchObject({ id: "eu_express", country: "IE", why: "not_offered_to_country" });

    const berlin = await cartWith("EUR", [{ sku, quantity: 1 }]);
    await ok(await setAddress(berlin, addressIn("DE")));
    const express = await ok(await setMethod(berlin, "eu_express"));
    expect(express.shipping_method).toMatchObject({ id: "eu_express", min_days: 1, max_days: 3 });
    const moved = await ok(await setAddress(berlin, addressIn("IE")));
    expect(moved.shipping_method).toBeNull();
    expect(moved.totals.shipping.amount).toBe(0);
  });

  it("moves a cart to another region of the same currency, with that region's options and rate", async () => {
    const id = `pl_courier_${crypto.randomUUID().slice(0, 6)}`;
    const code = await regionFor("SK", [
      { id, name: "Courier", price: { type: "flat", amount: 1200 }, min_days: 1, max_days: 2 },
    ]);
    const { sku } = await seedSku({ EUR: 12_300 });
    const cart = await cartWith("EUR", [{ sku, quantity: 1 }]);
    await ok(await setAddress(cart, addressIn("DE")));
    const german = await ok(await setMethod(cart, "eu_standard"));
    expect(german.region).toBe("EU");
    const polish = await ok(await setAddress(cart, addressIn("SK")));
    expect(polish.region).toBe(code);
    expect(polish.shipping_method).toBeNull();
    expect(polish.shipping_methods.map((method) => [method.id, method.min_days, method.max_days])).toEqual([
      [id, 1, 2],
    ]);
    // 12300 at 23 % holds 2300.
    expect(polish.totals.tax.amount).toBe(2300);
    await expectProblem(await setMethod(cart, "eu_standard"), 422, "unknown_shipping_method");
    const back = await ok(await setAddress(cart, addressIn("DE")));
    expect(back.region).toBe("EU");
    expect((await viewCart(cart)).totals.tax.amount).toBe(1964);
  });
});
