import { describe, expect, it } from "vitest";
import type { RegionView } from "../workers/regions/schemas";
import { ConsoleClient } from "./console-fixtures";
import { ADMIN, call } from "./helpers";
import { createRegion, ok } from "./regions-fixtures";

const regionApi = async (code: string) =>
  ok<RegionView>(await call(`/admin/api/regions/${code}`, { headers: ADMIN }));

/** A EUR region of its own with one country (each test takes a different one: D1 is shared in a file). */
const regionIn = (country: string) =>
  createRegion({
    code: "CSL",
    name: `Console ${country}`,
    currency: "EUR",
    tax_inclusive: true,
    countries: [country],
    default_country: country,
    position: 70,
  });

describe("console regions, tax and shipping", () => {
  it("lists the regions with their countries, currency and tax convention, and opens one", async () => {
    const client = new ConsoleClient();
    await client.session();
    const dashboard = await (await client.request("/admin")).text();
    expect(dashboard).toContain('href="/admin/regions"');
    const list = await (await client.request("/admin/regions")).text();
    expect(list).toMatch(/<tr data-region="EU">[\s\S]*?EUR[\s\S]*?include tax[\s\S]*?DE, ES/);
    expect(list).toMatch(/<tr data-region="US">[\s\S]*?USD[\s\S]*?exclude tax/);

    const eu = await client.request("/admin/regions/EU");
    expect(eu.status).toBe(200);
    expect(eu.headers.get("cache-control")).toBe("no-store");
    const html = await eu.text();
    expect(html).toContain("Germany (DE)");
    expect(html).toMatch(/<th scope="row">Germany<\/th><td>standard<\/td><td data-rate-bp="1900">19 %<\/td>/);
    expect(html).toMatch(/<th scope="row">Germany<\/th><td>reduced<\/td><td data-rate-bp="700">7 %<\/td>/);
    // Express reaches only the carrier's network, and says how long it takes.
    expect(html).toMatch(
      /data-shipping-option="eu_express">[\s\S]*?€14\.99 flat[\s\S]*?AT, BE, DE, FR, LU, NL[\s\S]*?1–3 days/,
    );
    expect(html).toMatch(/data-shipping-option="eu_standard">[\s\S]*?whole region[\s\S]*?3–7 days/);
    expect((await client.request("/admin/regions/NOPE")).status).toBe(404);
  });

  it("adds a country, sets and removes its VAT rate, and adds threshold and weight-band options", async () => {
    const code = await regionIn("RO");
    const client = new ConsoleClient();
    const csrf = await client.session();
    const base = `/admin/regions/${code}`;

    const added = await client.post(`${base}/countries`, { _csrf: csrf, country: "bg" });
    expect(added.status).toBe(303);
    expect(added.headers.get("location")).toBe(`${base}?notice=country_added`);
    expect((await regionApi(code)).countries).toEqual(["BG", "RO"]);

    expect((await client.post(`${base}/tax-rates`, { _csrf: csrf, country: "BG", rate: "20" })).status).toBe(
      303,
    );
    expect(
      (
        await client.post(`${base}/tax-rates`, {
          _csrf: csrf,
          country: "BG",
          rate: "9",
          tax_class: "reduced",
          name: "Reduced VAT",
        })
      ).status,
    ).toBe(303);
    let region = await regionApi(code);
    expect(region.tax_rates.map((r) => [r.country, r.tax_class, r.rate_bp, r.name])).toEqual([
      ["BG", "", 2000, "VAT"],
      ["BG", "reduced", 900, "Reduced VAT"],
    ]);

    const free = await client.post(`${base}/shipping-options`, {
      _csrf: csrf,
      id: `bg_post_${code.slice(-6).toLowerCase()}`,
      name: "Post",
      price_type: "flat",
      amount: "4.90",
      free_over: "60",
      countries: "bg",
      min_days: "2",
      max_days: "4",
    });
    expect(free.status).toBe(303);
    const bands = await client.post(`${base}/shipping-options`, {
      _csrf: csrf,
      id: `bg_parcel_${code.slice(-6).toLowerCase()}`,
      name: "Parcel",
      price_type: "weight_bands",
      bands: "2000 4.50\r\n\r\n10000: 9.50",
      min_days: "3",
      max_days: "6",
    });
    expect(bands.status).toBe(303);
    expect(bands.headers.get("location")).toBe(`${base}?notice=shipping_option_added`);
    region = await regionApi(code);
    expect(
      region.shipping_options.map(({ name, price, free_over, countries, min_days, max_days }) => ({
        name,
        price,
        free_over,
        countries,
        min_days,
        max_days,
      })),
    ).toEqual([
      {
        name: "Post",
        price: { type: "flat", amount: 490 },
        free_over: 6000,
        countries: ["BG"],
        min_days: 2,
        max_days: 4,
      },
      {
        name: "Parcel",
        price: {
          type: "weight_bands",
          bands: [
            { max_grams: 2000, amount: 450 },
            { max_grams: 10_000, amount: 950 },
          ],
        },
        free_over: null,
        countries: null,
        min_days: 3,
        max_days: 6,
      },
    ]);

    const page = await (await client.request(`${base}?notice=shipping_option_added`)).text();
    expect(page).toContain("Shipping option added.");
    expect(page).toContain("Bulgaria (BG), Romania (RO)");
    expect(page).toMatch(/Post[\s\S]*?€4\.90 flat[\s\S]*?data-free-over="6000">€60\.00/);
    expect(page).toContain("≤ 2,000 g €4.50 · ≤ 10,000 g €9.50");
    expect(page).toContain(`(bg_post_${code.slice(-6).toLowerCase()}), free over 60.00</option>`);

    // The threshold can be changed or dropped on the option itself.
    const parcel = region.shipping_options[1]?.id ?? "";
    await client.post(`${base}/shipping-options/free-over`, {
      _csrf: csrf,
      option: parcel,
      free_over: "120.5",
    });
    expect((await regionApi(code)).shipping_options[1]?.free_over).toBe(12_050);
    await client.post(`${base}/shipping-options/free-over`, { _csrf: csrf, option: parcel, free_over: "" });
    expect((await regionApi(code)).shipping_options[1]?.free_over).toBeNull();
    const withdrawn = await client.post(`${base}/shipping-options/${parcel}/active`, {
      _csrf: csrf,
      active: "0",
    });
    expect(withdrawn.headers.get("location")).toBe(`${base}?notice=shipping_option_withdrawn`);
    expect((await regionApi(code)).shipping_options[1]?.active).toBe(false);

    const reduced = region.tax_rates.find((r) => r.tax_class === "reduced")?.id ?? "";
    const removed = await client.post(`${base}/tax-rates/${reduced}/remove`, { _csrf: csrf });
    expect(removed.headers.get("location")).toBe(`${base}?notice=tax_rate_removed`);
    expect((await regionApi(code)).tax_rates.map((r) => r.rate_bp)).toEqual([2000]);
  });

  it("shows the admin API's refusals next to the forms and changes nothing", async () => {
    const code = await regionIn("HU");
    const client = new ConsoleClient();
    const csrf = await client.session();
    const base = `/admin/regions/${code}`;
    const before = await regionApi(code);

    const taken = await client.post(`${base}/countries`, { _csrf: csrf, country: "DE" });
    expect(taken.status).toBe(409);
    expect(await taken.text()).toContain("DE already belongs to region EU.");
    const again = await client.post(`${base}/countries`, { _csrf: csrf, country: "HU" });
    expect(again.status).toBe(422);

    const notPercent = await client.post(`${base}/tax-rates`, { _csrf: csrf, country: "HU", rate: "27%" });
    expect(notPercent.status).toBe(422);
    expect(await notPercent.text()).toContain("Enter the rate as a percentage");
    const tooHigh = await client.post(`${base}/tax-rates`, { _csrf: csrf, country: "HU", rate: "101" });
    expect(tooHigh.status).toBe(422);
    expect(await tooHigh.text()).toContain("rate_bp");
    const foreign = await client.post(`${base}/tax-rates`, { _csrf: csrf, country: "FR", rate: "20" });
    expect(foreign.status).toBe(422);
    expect(await foreign.text()).toContain("FR is not one of region");

    const option = { _csrf: csrf, id: "hu_post", name: "Post", min_days: "1", max_days: "2" };
    const badBands = await client.post(`${base}/shipping-options`, {
      ...option,
      price_type: "weight_bands",
      bands: "2000 4.50\nheavy 9.50",
    });
    expect(badBands.status).toBe(422);
    expect(await badBands.text()).toContain("Weight bands, line 2");
    const noAmount = await client.post(`${base}/shipping-options`, {
      ...option,
      price_type: "flat",
      amount: "",
    });
    expect(noAmount.status).toBe(422);
    const days = await client.post(`${base}/shipping-options`, {
      ...option,
      price_type: "flat",
      amount: "3",
      min_days: "5",
    });
    expect(days.status).toBe(422);
    expect(await days.text()).toContain("max_days");
    const outside = await client.post(`${base}/shipping-options`, {
      ...option,
      price_type: "flat",
      amount: "3",
      countries: "DE",
    });
    expect(outside.status).toBe(422);

    const notMoney = await client.post(`${base}/shipping-options/free-over`, {
      _csrf: csrf,
      option: "eu_standard",
      free_over: "50,5.0.0",
    });
    expect(notMoney.status).toBe(422);
    expect(await notMoney.text()).toContain("Enter the free-shipping threshold in EUR");
    const otherRegions = await client.post(`${base}/shipping-options/free-over`, {
      _csrf: csrf,
      option: "eu_standard",
      free_over: "50",
    });
    expect(otherRegions.status).toBe(404);

    const gone = await client.post(`${base}/tax-rates/txr_nope/remove`, { _csrf: csrf });
    expect(gone.status).toBe(404);

    expect(await regionApi(code)).toEqual(before);
  });

  it("refuses a form without the session's CSRF token", async () => {
    const code = await regionIn("CZ");
    const client = new ConsoleClient();
    await client.session();
    const res = await client.post(`/admin/regions/${code}/tax-rates`, { country: "CZ", rate: "21" });
    expect(res.status).toBe(403);
    expect((await regionApi(code)).tax_rates).toEqual([]);
  });

  it("hides the section from a token without regions:write and answers 403", async () => {
    const client = new ConsoleClient();
    await client.session("inventory-reader-token");
    const dashboard = await (await client.request("/admin")).text();
    expect(dashboard).not.toContain('href="/admin/regions"');
    expect((await client.request("/admin/regions")).status).toBe(403);
    expect((await client.request("/admin/regions/EU")).status).toBe(403);
  });
});
