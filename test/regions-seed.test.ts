import { describe, expect, it } from "vitest";
import { SEED_REGIONS, SEED_SHIPPING_OPTIONS, SEED_TAX_RATES } from "../db/seed-regions";
import { ADMIN, call } from "./helpers";

interface RegionBody {
  code: string;
  currency: string;
  tax_inclusive: boolean;
  default_country: string;
  countries: string[];
  tax_rates: { country: string; subdivision: string; tax_class: string; rate_bp: number; name: string }[];
  shipping_options: {
    id: string;
    name: string;
    price: { type: string; amount?: number };
    countries: string[] | null;
    min_days: number;
    max_days: number;
  }[];
}

describe("the demo's regions", () => {
  it("are what migration 0012 installs and db/seed-regions.ts seeds, with real VAT and US state base rates", async () => {
    const { data } = (await (await call("/admin/api/regions", { headers: ADMIN })).json()) as {
      data: RegionBody[];
    };
    for (const seeded of SEED_REGIONS) {
      const region = data.find((entry) => entry.code === seeded.code);
      expect(region, seeded.code).toMatchObject({
        currency: seeded.currency,
        tax_inclusive: seeded.tax_inclusive,
        default_country: seeded.default_country,
        countries: [...seeded.countries].sort(),
      });
      expect(
        region?.shipping_options.map((option) => ({
          id: option.id,
          name: option.name,
          amount: option.price.amount,
          countries: option.countries,
          min_days: option.min_days,
          max_days: option.max_days,
        })),
      ).toEqual(
        SEED_SHIPPING_OPTIONS.filter((option) => option.region_code === seeded.code).map((option) => ({
          id: option.id,
          name: option.name,
          amount: option.amount,
          countries: option.countries,
          min_days: option.min_days,
          max_days: option.max_days,
        })),
      );
    }
    const installed = data.flatMap((region) => region.tax_rates);
    for (const rate of SEED_TAX_RATES) {
      expect(installed).toContainEqual(expect.objectContaining(rate));
    }
    const standard = (country: string, subdivision = "") =>
      installed.find(
        (rate) => rate.country === country && rate.subdivision === subdivision && rate.tax_class === "",
      )?.rate_bp;
    expect([standard("DE"), standard("FR"), standard("NL"), standard("IT"), standard("ES")]).toEqual([
      1900, 2000, 2100, 2200, 2100,
    ]);
    expect([standard("AT"), standard("BE"), standard("IE")]).toEqual([2000, 2100, 2300]);
    expect([standard("US", "CA"), standard("US", "NY"), standard("US", "TX"), standard("US", "WA")]).toEqual([
      725, 400, 625, 650,
    ]);
  });
});
