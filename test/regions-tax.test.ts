import { describe, expect, it } from "vitest";
import { callJson } from "./helpers";
import { addressIn, cartWith, ok, setAddress, setMethod, viewCart } from "./regions-fixtures";
import { seedSku } from "./revenue-fixtures";

describe("tax follows the shipping country (seeded regions and rates)", () => {
  it("shows 19 % German VAT for a EUR cart shipped to Berlin: €266.00 holds €42.47, €4.99 shipping €0.80", async () => {
    const { sku } = await seedSku({ EUR: 26_600 });
    const cart = await cartWith("EUR", [{ sku, quantity: 1 }]);
    await ok(await setAddress(cart, addressIn("DE")));
    const body = await ok(await setMethod(cart, "eu_standard"));
    expect(body.region).toBe("EU");
    expect(body.lines[0]).toMatchObject({ tax: { amount: 4247 }, tax_rate_bp: 1900 });
    expect(body.totals).toMatchObject({
      subtotal: { amount: 26_600, currency: "EUR" },
      shipping: { amount: 499 },
      tax: { amount: 4327 },
      total: { amount: 27_099 },
      tax_inclusive: true,
      tax_lines: [{ name: "VAT", rate_bp: 1900, amount: { amount: 4327 } }],
    });
  });

  it("re-prices from 19 % to 20 % when the cart moves from Berlin to Paris, keeping the gross total", async () => {
    const { sku } = await seedSku({ EUR: 26_600 });
    const cart = await cartWith("EUR", [{ sku, quantity: 1 }]);
    await ok(await setAddress(cart, addressIn("DE")));
    const berlin = await ok(await setMethod(cart, "eu_standard"));
    const paris = await ok(
      await setAddress(cart, { ...addressIn("FR"), city: "Paris", postal_code: "75001" }),
    );
    expect(berlin.totals.tax.amount).toBe(4327);
    // 26600 at 20 % holds 4433, 499 holds 83: prices include VAT, so the total stays.
    expect(paris.totals).toMatchObject({ tax: { amount: 4516 }, total: { amount: 27_099 } });
    expect(paris.lines[0]?.tax_rate_bp).toBe(2000);
    expect(paris.shipping_method?.id).toBe("eu_standard");
  });

  it("taxes a US cart at the shipping state's rate, and collects nothing where no rate is set", async () => {
    const { sku } = await seedSku({ USD: 10_000 });
    const cart = await cartWith("USD", [{ sku, quantity: 1 }]);
    const before = await viewCart(cart);
    // No address yet and no country-wide US rate: nothing to estimate.
    expect(before.totals.tax.amount).toBe(0);
    const california = await ok(await setAddress(cart, addressIn("US", "CA")));
    expect(california.totals).toMatchObject({ tax: { amount: 725 }, total: { amount: 10_725 } });
    const newYork = await ok(await setAddress(cart, addressIn("US", "us-ny")));
    expect(newYork.totals).toMatchObject({ tax: { amount: 400 }, total: { amount: 10_400 } });
    const oregon = await ok(await setAddress(cart, addressIn("US", "OR")));
    expect(oregon.totals).toMatchObject({ tax: { amount: 0 }, total: { amount: 10_000 } });
  });

  it("charges a product's reduced tax class its own rate (German 7 %)", async () => {
    const book = await seedSku({ EUR: 1_070 }, { taxClass: "reduced" });
    const shirt = await seedSku({ EUR: 1_190 });
    const cart = await cartWith("EUR", [
      { sku: book.sku, quantity: 1 },
      { sku: shirt.sku, quantity: 1 },
    ]);
    const body = await ok(await setAddress(cart, addressIn("DE")));
    expect(body.lines.map((line) => [line.tax.amount, line.tax_rate_bp])).toEqual([
      [70, 700],
      [190, 1900],
    ]);
    expect(body.totals.tax_lines).toEqual([
      { name: "VAT (reduced)", rate_bp: 700, amount: { amount: 70, currency: "EUR" } },
      { name: "VAT", rate_bp: 1900, amount: { amount: 190, currency: "EUR" } },
    ]);
  });

  it("refuses an address no region of the cart's currency ships to, naming the countries it does", async () => {
    const cart = await cartWith("GBP", []);
    const res = await setAddress(cart, addressIn("DE"));
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const problem = (await res.json()) as { code: string; detail: string; country: string };
    expect(problem).toMatchObject({ code: "address_outside_region", country: "DE" });
    expect(problem.detail).toContain("GB");
    const unchanged = await ok(await callJson(`/api/carts/${cart.id}`, "GET", undefined, cart.headers));
    expect(unchanged).toMatchObject({ region: "GB" });
  });
});
