import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CatalogItem } from "../workers/cart/catalog-prices";
import { priceCart } from "../workers/cart/pricing";
import { inclusiveTax, TAX_REGIONS } from "../workers/cart/tax-rates";
import type { PromotionRule } from "../workers/promotions/rules";

const item = (sku: string, unitPrice: number): CatalogItem => ({
  sku,
  variantId: `var_${sku}`,
  productId: `prod_${sku}`,
  title: sku,
  variantTitle: "",
  unitPrice,
  purchasable: true,
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
          const region = TAX_REGIONS[regionCode];
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
            shipping: { id: "s", name: "s", amount: shippingAmount, min_days: 1, max_days: 2 },
            region,
            now: Date.now(),
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
      shipping: null,
      region: TAX_REGIONS.US,
      now: Date.now(),
    });
    expect(priced.lines[0]?.priceChanged).toEqual({ previous: 900, current: 1000 });
    expect(priced.subtotal).toBe(2000);
  });
});
