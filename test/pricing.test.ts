import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CatalogItem } from "../workers/cart/catalog-prices";
import { completePricing, type PricingLine, priceGoods, taxableLines } from "../workers/cart/pricing";
import type { Currency } from "../workers/lib/money";
import type { PromotionRule } from "../workers/promotions/rules";
import { type RegionConfig, taxRateKey } from "../workers/regions/config";
import { tableTax } from "../workers/regions/table-tax";
import { exclusiveTax, inclusiveTax, percentToBasisPoints } from "../workers/regions/tax-math";
import { rateFor, subdivisionOf } from "../workers/regions/tax-rate-lookup";

/** An in-memory rate table: DE 19 % (reduced 7 %), FR 20 %, US state CA 7.25 %, GB 20 %, JP 10 %. */
const RATES: [string, string, string, number][] = [
  ["DE", "", "", 1900],
  ["DE", "", "reduced", 700],
  ["FR", "", "", 2000],
  ["US", "CA", "", 725],
  ["GB", "", "", 2000],
  ["JP", "", "", 1000],
];
const config: RegionConfig = {
  version: 1,
  regions: new Map(),
  regionByCountry: new Map(),
  shippingOptions: new Map(),
  taxRates: new Map(
    RATES.map(([country, subdivision, taxClass, rateBp]) => [
      taxRateKey(country, subdivision, taxClass),
      { id: `${country}${subdivision}${taxClass}`, country, subdivision, taxClass, rateBp, name: "Tax" },
    ]),
  ),
};
const MARKETS = {
  US: { currency: "USD", taxInclusive: false, location: { country: "US", subdivision: "CA" } },
  EU: { currency: "EUR", taxInclusive: true, location: { country: "DE", subdivision: "" } },
  GB: { currency: "GBP", taxInclusive: true, location: { country: "GB", subdivision: "" } },
  JP: { currency: "JPY", taxInclusive: true, location: { country: "JP", subdivision: "" } },
} as const;

/** Goods, then the tables' tax, then totals: the path a cart takes. */
function priceCart(input: {
  lines: PricingLine[];
  catalog: Map<string, CatalogItem>;
  promotionCodes: string[];
  promotionRules: Map<string, PromotionRule>;
  shipping: number;
  market: (typeof MARKETS)[keyof typeof MARKETS];
}) {
  const { market } = input;
  const goods = priceGoods({ ...input, currency: market.currency as Currency, now: Date.now() });
  const calculation = tableTax(config, {
    currency: market.currency as Currency,
    taxInclusive: market.taxInclusive,
    location: market.location,
    address: null,
    lines: taxableLines(goods),
    shipping: input.shipping,
  });
  return completePricing(goods, input.shipping, calculation, market.taxInclusive);
}

const item = (sku: string, unitPrice: number): CatalogItem => ({
  sku,
  variantId: `var_${sku}`,
  productId: `prod_${sku}`,
  title: sku,
  variantTitle: "",
  unitPrice,
  purchasable: true,
  taxClass: null,
  weightGrams: null,
});

const rule = (code: string, fields: Partial<PromotionRule>): PromotionRule => ({
  id: `promo_${code}`,
  code,
  type: "percentage",
  percentageBp: null,
  amountOff: null,
  currency: null,
  minimumSubtotal: null,
  startsAt: null,
  endsAt: null,
  usageLimit: null,
  perCustomerLimit: null,
  timesUsed: 0,
  active: true,
  ...fields,
});

describe("cart pricing arithmetic", () => {
  it("always balances: line parts sum to the totals and no amount goes negative", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            price: fc.integer({ min: 0, max: 10_000_000 }),
            quantity: fc.integer({ min: 1, max: 99 }),
          }),
          {
            minLength: 0,
            maxLength: 50,
          },
        ),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 50_000_000 }),
        fc.constantFrom("US", "EU", "GB", "JP" as const),
        fc.integer({ min: 0, max: 5_000 }),
        (lines, percentageBp, amountOff, regionCode, shippingAmount) => {
          const region = MARKETS[regionCode];
          const catalog = new Map(lines.map((line, i) => [`S${i}`, item(`S${i}`, line.price)]));
          const priced = priceCart({
            lines: lines.map((line, i) => ({
              id: `l${i}`,
              sku: `S${i}`,
              quantity: line.quantity,
              acknowledgedPrice: line.price,
            })),
            catalog,
            promotionCodes: ["PCT", "FIX"],
            promotionRules: new Map([
              ["PCT", rule("PCT", { percentageBp })],
              ["FIX", rule("FIX", { type: "fixed_amount", amountOff, currency: region.currency })],
            ]),
            shipping: shippingAmount,
            market: region,
          });
          const sum = (pick: (line: (typeof priced.lines)[number]) => number) =>
            priced.lines.reduce((total, line) => total + pick(line), 0);
          expect(sum((line) => line.lineSubtotal)).toBe(priced.subtotal);
          expect(sum((line) => line.discount)).toBe(priced.discount);
          expect(priced.discount).toBeLessThanOrEqual(priced.subtotal);
          for (const line of priced.lines) {
            expect(Number.isSafeInteger(line.tax)).toBe(true);
            expect(line.discount).toBeGreaterThanOrEqual(0);
            expect(line.discount).toBeLessThanOrEqual(line.lineSubtotal);
          }
          const shippingTax = priced.tax - sum((line) => line.tax);
          expect(shippingTax).toBeGreaterThanOrEqual(0);
          const goods = priced.subtotal - priced.discount;
          expect(priced.total).toBe(goods + priced.shipping + (region.taxInclusive ? 0 : priced.tax));
          expect(sum((line) => line.total) + priced.shipping + (region.taxInclusive ? 0 : shippingTax)).toBe(
            priced.total,
          );
        },
      ),
    );
  });

  it("splits inclusive tax so net plus tax is exactly the gross amount", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 10_000 }), (gross, rate) => {
        const tax = inclusiveTax(gross, rate);
        expect(tax).toBeGreaterThanOrEqual(0);
        expect(tax).toBeLessThanOrEqual(gross);
        // The net part, re-taxed, gives back the gross within rounding of one minor unit.
        const net = gross - tax;
        expect(Math.abs(net + Math.round((net * rate) / 10_000) - gross)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("flags lines whose price moved since the shopper last saw it", () => {
    const priced = priceCart({
      lines: [{ id: "l1", sku: "A", quantity: 2, acknowledgedPrice: 900 }],
      catalog: new Map([["A", item("A", 1000)]]),
      promotionCodes: [],
      promotionRules: new Map(),
      shipping: 0,
      market: MARKETS.US,
    });
    expect(priced.lines[0]?.priceChanged).toEqual({ previous: 900, current: 1000 });
    expect(priced.subtotal).toBe(2000);
  });

  it("rounds tax half-up per line in minor units: €266.00 incl. 19 % holds €42.47", () => {
    expect(inclusiveTax(26_600, 1900)).toBe(4247);
    expect(inclusiveTax(499, 1900)).toBe(80);
    expect(inclusiveTax(26_600, 2000)).toBe(4433);
    // 599 × 7.25 % = 43.4275 → 43; 200 × 6.25 % = 12.5 → 13 (half-up, not half-even).
    expect(exclusiveTax(599, 725)).toBe(43);
    expect(exclusiveTax(200, 625)).toBe(13);
    const priced = priceCart({
      lines: [
        { id: "a", sku: "A", quantity: 1, acknowledgedPrice: 13_300 },
        { id: "b", sku: "B", quantity: 1, acknowledgedPrice: 13_300 },
      ],
      catalog: new Map([
        ["A", item("A", 13_300)],
        ["B", item("B", 13_300)],
      ]),
      promotionCodes: [],
      promotionRules: new Map(),
      shipping: 499,
      market: MARKETS.EU,
    });
    // Per line: 13300 at 19 % holds 2124 (twice), shipping 80: the cart shows the sum, 4328.
    expect(priced.lines.map((line) => line.tax)).toEqual([2124, 2124]);
    expect(priced.tax).toBe(4328);
  });

  it("looks rates up most specific first: subdivision and class, subdivision, country and class, country", () => {
    expect(rateFor(config, { country: "DE", subdivision: "" }, "reduced").rateBp).toBe(700);
    expect(rateFor(config, { country: "DE", subdivision: "" }, "luxury").rateBp).toBe(1900);
    expect(rateFor(config, { country: "US", subdivision: "CA" }, null).rateBp).toBe(725);
    expect(rateFor(config, { country: "US", subdivision: "OR" }, null)).toMatchObject({
      rateBp: 0,
      name: "No tax",
    });
    expect(subdivisionOf("US", " us-ca ")).toBe("CA");
    expect(subdivisionOf("US", "California")).toBe("CALIFORNIA");
  });

  it("reads provider percentages as basis points without floats", () => {
    expect(percentToBasisPoints("19.0")).toBe(1900);
    expect(percentToBasisPoints("7.25")).toBe(725);
    expect(percentToBasisPoints("8.875")).toBe(888);
    expect(percentToBasisPoints("0")).toBe(0);
    expect(percentToBasisPoints("-1")).toBeNull();
    expect(percentToBasisPoints("abc")).toBeNull();
  });
});
