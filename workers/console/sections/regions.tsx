import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { type Currency, formatMoney } from "../../lib/money";
import { countryName } from "../../regions/country-name";
import type { RegionView } from "../../regions/schemas";
import { parsePrice } from "../../storefront/catalog";
import { DataTable, Field, PostForm } from "../components";
import type { ConsoleContext, ConsoleEnv } from "../context";
import { amountInput, basisPoints, formFields, intField, percentText } from "../form";
import { done, failure, type PageOptions, page, section } from "../page";

type ShippingOptionView = RegionView["shipping_options"][number];
type TaxRateView = RegionView["tax_rates"][number];

const regionPath = (code: string) => `/admin/regions/${encodeURIComponent(code)}`;
const apiPath = (code: string) => `/regions/${encodeURIComponent(code)}`;
const money = (amount: number, currency: Currency) => formatMoney({ amount, currency });
const countryList = (codes: readonly string[]) => codes.map((code) => `${countryName(code)} (${code})`);

/** "≤ 2,000 g €4.50 · ≤ 10,000 g €9.50" or the flat amount. */
function priceText(option: ShippingOptionView, currency: Currency): string {
  if (option.price.type === "flat") return `${money(option.price.amount, currency)} flat`;
  return option.price.bands
    .map((band) => `≤ ${band.max_grams.toLocaleString("en-US")} g ${money(band.amount, currency)}`)
    .join(" · ");
}

const daysText = (option: ShippingOptionView) =>
  option.min_days === option.max_days
    ? `${option.min_days} days`
    : `${option.min_days}–${option.max_days} days`;

/** Where a rate applies: "Germany", "United States, CA", with its tax class when reduced. */
const rateScope = (rate: TaxRateView) =>
  `${countryName(rate.country)}${rate.subdivision ? `, ${rate.subdivision}` : ""}`;

const ListPage: FC<{ regions: RegionView[] }> = ({ regions }) => (
  <>
    <h1>Regions, tax and shipping</h1>
    <p class="muted">
      A cart's shipping country picks its region, and with it the tax rates and shipping options below.
    </p>
    <DataTable headers={["Region", "Currency", "Prices", "Countries", "Tax rates", "Shipping options"]}>
      {regions.map((region) => (
        <tr data-region={region.code}>
          <th scope="row">
            <a href={regionPath(region.code)}>{region.name}</a> <code>{region.code}</code>
          </th>
          <td>{region.currency}</td>
          <td>{region.tax_inclusive ? "include tax" : "exclude tax"}</td>
          <td>{region.countries.join(", ")}</td>
          <td>{region.tax_rates.length}</td>
          <td>{region.shipping_options.filter((option) => option.active).length}</td>
        </tr>
      ))}
    </DataTable>
    {regions.length === 0 ? <p>No regions yet: shoppers cannot give an address.</p> : null}
  </>
);

const RatesTable: FC<{ region: RegionView; csrf: string }> = ({ region, csrf }) => (
  <DataTable
    labelledBy="rates-h"
    headers={["Where", "Tax class", "Rate", "Name", { hidden: "Action" }]}
    bodyAttr="data-tax-rates"
  >
    {region.tax_rates.map((rate) => (
      <tr data-tax-rate={rate.id}>
        <th scope="row">{rateScope(rate)}</th>
        <td>{rate.tax_class || "standard"}</td>
        <td data-rate-bp={String(rate.rate_bp)}>{percentText(rate.rate_bp)}</td>
        <td>{rate.name}</td>
        <td>
          <PostForm
            action={`${regionPath(region.code)}/tax-rates/${encodeURIComponent(rate.id)}/remove`}
            csrf={csrf}
            confirm="Remove this rate? Carts fall back to the country's standard rate, or to no tax."
          >
            <button
              type="submit"
              class="secondary"
              aria-label={`Remove ${rateScope(rate)} ${rate.tax_class || "standard"} rate`}
            >
              Remove
            </button>
          </PostForm>
        </td>
      </tr>
    ))}
  </DataTable>
);

const OptionsTable: FC<{ region: RegionView; csrf: string }> = ({ region, csrf }) => (
  <DataTable
    labelledBy="shipping-h"
    headers={["Option", "Price", "Free over", "Ships to", "Delivery", "State", { hidden: "Actions" }]}
  >
    {region.shipping_options.map((option) => {
      const path = `${regionPath(region.code)}/shipping-options/${encodeURIComponent(option.id)}`;
      return (
        <tr data-shipping-option={option.id}>
          <th scope="row">
            {option.name} <code>{option.id}</code>
          </th>
          <td>{priceText(option, region.currency)}</td>
          <td data-free-over={String(option.free_over ?? "")}>
            {option.free_over === null ? "—" : money(option.free_over, region.currency)}
          </td>
          <td>{option.countries ? option.countries.join(", ") : "whole region"}</td>
          <td>{daysText(option)}</td>
          <td>{option.active ? "offered" : "withdrawn"}</td>
          <td>
            <PostForm action={`${path}/active`} csrf={csrf}>
              <input type="hidden" name="active" value={option.active ? "0" : "1"} />
              <button
                type="submit"
                class="secondary"
                aria-label={`${option.active ? "Withdraw" : "Offer again"} ${option.name}`}
              >
                {option.active ? "Withdraw" : "Offer again"}
              </button>
            </PostForm>
          </td>
        </tr>
      );
    })}
  </DataTable>
);

const RegionPage: FC<{ region: RegionView; csrf: string }> = ({ region, csrf }) => (
  <>
    <p class="crumbs">
      <a href="/admin/regions">Regions</a> / {region.code}
    </p>
    <h1>{region.name}</h1>
    <dl class="facts">
      <dt>Code</dt>
      <dd>
        <code>{region.code}</code>
      </dd>
      <dt>Currency</dt>
      <dd>{region.currency}</dd>
      <dt>Prices</dt>
      <dd data-tax-inclusive={region.tax_inclusive ? "true" : "false"}>
        {region.tax_inclusive ? "include tax (VAT)" : "exclude tax (added at checkout)"}
      </dd>
      <dt>Tax computed by</dt>
      <dd>{region.tax_provider === "stripe" ? "Stripe Tax" : "the rates below"}</dd>
      <dt>Countries</dt>
      <dd data-countries={region.countries.join(",")}>{countryList(region.countries).join(", ")}</dd>
      <dt>Estimated for</dt>
      <dd>{countryName(region.default_country)} until a cart has an address</dd>
    </dl>

    <h2 id="rates-h">Tax rates</h2>
    <RatesTable region={region} csrf={csrf} />
    {region.tax_rates.length === 0 ? <p>No rates: carts here pay no tax.</p> : null}

    <h2 id="shipping-h">Shipping options</h2>
    <OptionsTable region={region} csrf={csrf} />
    {region.shipping_options.length === 0 ? <p>No shipping options: carts here cannot check out.</p> : null}

    <div class="forms">
      <section class="card" aria-labelledby="country-h">
        <h2 id="country-h">Add a country</h2>
        <PostForm action={`${regionPath(region.code)}/countries`} csrf={csrf} label="Add a country">
          <Field
            name="country"
            label="Country code"
            required
            placeholder="SI"
            hint="Two letters (ISO 3166-1), e.g. SI for Slovenia. A country belongs to one region."
          />
          <button type="submit">Add country</button>
        </PostForm>
      </section>

      <section class="card" aria-labelledby="rate-h">
        <h2 id="rate-h">Set a tax rate</h2>
        <PostForm action={`${regionPath(region.code)}/tax-rates`} csrf={csrf} label="Set a tax rate">
          <div class="field">
            <label for="f-rate-country">Country</label>
            <select id="f-rate-country" name="country">
              {region.countries.map((code) => (
                <option value={code}>{`${countryName(code)} (${code})`}</option>
              ))}
            </select>
          </div>
          <Field
            name="rate"
            label="Rate (%)"
            inputmode="decimal"
            required
            hint="e.g. 19 or 5.5. Setting a rate that exists replaces it."
          />
          <Field
            name="subdivision"
            label="State or province"
            hint="Optional: e.g. CA or ON; its rate replaces the country's there."
          />
          <Field
            name="tax_class"
            label="Product tax class"
            hint="Optional: e.g. reduced. Empty: the standard rate."
          />
          <Field name="name" id="f-rate-name" label="Name on receipts" hint="Optional: VAT, sales tax …" />
          <button type="submit">Set rate</button>
        </PostForm>
      </section>

      <section class="card" aria-labelledby="option-h">
        <h2 id="option-h">Add a shipping option</h2>
        <PostForm
          action={`${regionPath(region.code)}/shipping-options`}
          csrf={csrf}
          label="Add a shipping option"
        >
          <Field name="id" label="Id" required hint="Lower-case letters, digits and _, e.g. si_parcel." />
          <Field name="name" id="f-option-name" label="Name shoppers see" required />
          <div class="field">
            <label for="f-price-type">Priced by</label>
            <select id="f-price-type" name="price_type">
              <option value="flat">Flat amount</option>
              <option value="weight_bands">Cart weight (bands)</option>
            </select>
          </div>
          <Field
            name="amount"
            label={`Flat amount (${region.currency})`}
            inputmode="decimal"
            hint="For a flat price, e.g. 4.99."
          />
          <div class="field">
            <label for="f-bands">Weight bands</label>
            <textarea
              id="f-bands"
              name="bands"
              rows={3}
              aria-describedby="f-bands-hint"
              placeholder={"2000 4.50\n10000 9.50"}
            />
            <small id="f-bands-hint" class="hint">
              For weight pricing: one band a line, up to grams then price, heaviest last. Heavier carts are
              not offered the option.
            </small>
          </div>
          <Field
            name="free_over"
            label={`Free over (${region.currency})`}
            inputmode="decimal"
            hint="Optional: free once the goods after discounts reach this amount."
          />
          <Field
            name="countries"
            label="Only to countries"
            hint={`Optional: codes separated by commas, e.g. ${region.countries.slice(0, 2).join(", ")}. Empty: the whole region.`}
          />
          <Field name="min_days" label="Delivery from (days)" type="number" min={0} max={365} required />
          <Field name="max_days" label="Delivery to (days)" type="number" min={0} max={365} required />
          <button type="submit">Add option</button>
        </PostForm>
      </section>

      {region.shipping_options.length > 0 ? (
        <section class="card" aria-labelledby="threshold-h">
          <h2 id="threshold-h">Free-shipping threshold</h2>
          <PostForm
            action={`${regionPath(region.code)}/shipping-options/free-over`}
            csrf={csrf}
            label="Free-shipping threshold"
          >
            <div class="field">
              <label for="f-threshold-option">Shipping option</label>
              <select id="f-threshold-option" name="option">
                {region.shipping_options.map((option) => (
                  <option value={option.id}>
                    {`${option.name} (${option.id})${option.free_over === null ? "" : `, free over ${amountInput(option.free_over, region.currency)}`}`}
                  </option>
                ))}
              </select>
            </div>
            <Field
              name="free_over"
              id="f-threshold"
              label={`Free over (${region.currency})`}
              inputmode="decimal"
              hint="Free once the goods after discounts reach this amount. Empty: never free."
            />
            <button type="submit">Save threshold</button>
          </PostForm>
        </section>
      ) : null}
    </div>
  </>
);

/** A money field in the region's currency: undefined when empty, null when it is not money. */
const amountField = (text: string | undefined, currency: Currency) => parsePrice(text ?? "", currency);

/** "2000 4.50" lines → bands; the 1-based number of the first line that is not a band otherwise. */
function parseBands(
  text: string,
  currency: Currency,
): { max_grams: number; amount: number }[] | { badLine: number } {
  const bands: { max_grams: number; amount: number }[] = [];
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  for (const [index, line] of lines.entries()) {
    if (!line) continue;
    const match = /^(\d{1,8})\s*(?:g\b)?\s*[\s:=;]\s*(\S+)$/.exec(line);
    const amount = match ? parsePrice(match[2] ?? "", currency) : null;
    if (!match || amount === null || amount === undefined) return { badLine: index + 1 };
    bands.push({ max_grams: Number(match[1]), amount });
  }
  return bands;
}

const countryCodes = (text: string | undefined) =>
  (text ?? "")
    .split(/[\s,;]+/)
    .map((code) => code.trim().toUpperCase())
    .filter(Boolean);

async function loadRegion(c: ConsoleContext, code: string) {
  return c.get("api").get<RegionView>(apiPath(code));
}

async function showRegion(c: ConsoleContext, code: string, opts: PageOptions = {}) {
  const result = await loadRegion(c, code);
  if (!result.ok) {
    return page(
      c,
      "Region",
      <p>
        <a href="/admin/regions">All regions</a>
      </p>,
      failure(result),
    );
  }
  return page(c, result.data.name, <RegionPage region={result.data} csrf={c.get("session").csrf} />, opts);
}

/** Re-renders the region's page with a form mistake the console caught before calling the API. */
const refuse = (c: ConsoleContext, code: string, error: string) =>
  showRegion(c, code, { error, status: 422 });

/**
 * Settings: regions with their countries, currency and tax convention; per region its tax rates
 * and shipping options, with forms to add a country, set or remove a rate, add an option (flat,
 * weight bands, free-over threshold, countries, delivery days), change its threshold and withdraw
 * it. Everything goes through `/admin/api/regions`; the API needs `regions:write` even to list.
 */
export const regionsSection = new Hono<ConsoleEnv>()
  .use("*", section("regions:write"))
  .get("/", async (c) => {
    const result = await c.get("api").get<{ data: RegionView[] }>("/regions");
    if (!result.ok) return page(c, "Regions", <ListPage regions={[]} />, failure(result));
    return page(c, "Regions, tax and shipping", <ListPage regions={result.data.data} />);
  })
  .get("/:code", (c) => showRegion(c, c.req.param("code")))
  .post("/:code/countries", async (c) => {
    const code = c.req.param("code");
    const f = await formFields(c);
    const country = (f.country ?? "").toUpperCase();
    const current = await loadRegion(c, code);
    if (!current.ok) return showRegion(c, code, failure(current));
    if (current.data.countries.includes(country)) {
      return refuse(c, code, `${country} is already one of this region's countries.`);
    }
    const result = await c
      .get("api")
      .send("PATCH", apiPath(code), { countries: [...current.data.countries, country] });
    if (!result.ok) return showRegion(c, code, failure(result));
    return done(c, regionPath(code), "country_added");
  })
  .post("/:code/tax-rates", async (c) => {
    const code = c.req.param("code");
    const f = await formFields(c);
    const rate = basisPoints(f.rate ?? "");
    if (rate === null) return refuse(c, code, "Enter the rate as a percentage, like 19 or 5.5.");
    const result = await c.get("api").send("PUT", `${apiPath(code)}/tax-rates`, {
      country: (f.country ?? "").toUpperCase(),
      rate_bp: rate,
      ...(f.subdivision ? { subdivision: f.subdivision.toUpperCase() } : {}),
      ...(f.tax_class ? { tax_class: f.tax_class.toLowerCase() } : {}),
      ...(f.name ? { name: f.name } : {}),
    });
    if (!result.ok) return showRegion(c, code, failure(result));
    return done(c, regionPath(code), "tax_rate_set");
  })
  .post("/:code/tax-rates/:rate/remove", async (c) => {
    const code = c.req.param("code");
    const result = await c
      .get("api")
      .send("DELETE", `${apiPath(code)}/tax-rates/${encodeURIComponent(c.req.param("rate"))}`);
    if (!result.ok) return showRegion(c, code, failure(result));
    return done(c, regionPath(code), "tax_rate_removed");
  })
  .post("/:code/shipping-options", async (c) => {
    const code = c.req.param("code");
    const current = await loadRegion(c, code);
    if (!current.ok) return showRegion(c, code, failure(current));
    const { currency } = current.data;
    const f = await formFields(c);
    let price: object;
    if (f.price_type === "weight_bands") {
      const bands = parseBands(f.bands ?? "", currency);
      if ("badLine" in bands) {
        return refuse(
          c,
          code,
          `Weight bands, line ${bands.badLine}: write the grams, then the price, like 2000 4.50.`,
        );
      }
      price = { type: "weight_bands", bands };
    } else {
      const amount = amountField(f.amount, currency);
      if (amount === null || amount === undefined) {
        return refuse(c, code, `Enter the flat amount in ${currency}, like 4.99.`);
      }
      price = { type: "flat", amount };
    }
    const freeOver = amountField(f.free_over, currency);
    if (freeOver === null)
      return refuse(c, code, `Enter the free-shipping threshold in ${currency}, like 50.00.`);
    const countries = countryCodes(f.countries);
    const result = await c.get("api").send("POST", `${apiPath(code)}/shipping-options`, {
      id: f.id,
      name: f.name,
      price,
      ...(freeOver === undefined ? {} : { free_over: freeOver }),
      ...(countries.length ? { countries } : {}),
      min_days: intField(f.min_days),
      max_days: intField(f.max_days),
    });
    if (!result.ok) return showRegion(c, code, failure(result));
    return done(c, regionPath(code), "shipping_option_added");
  })
  .post("/:code/shipping-options/free-over", async (c) => {
    const code = c.req.param("code");
    const current = await loadRegion(c, code);
    if (!current.ok) return showRegion(c, code, failure(current));
    const f = await formFields(c);
    const freeOver = amountField(f.free_over, current.data.currency);
    if (freeOver === null) {
      return refuse(c, code, `Enter the free-shipping threshold in ${current.data.currency}, like 50.00.`);
    }
    const result = await c
      .get("api")
      .send("PATCH", `${apiPath(code)}/shipping-options/${encodeURIComponent(f.option ?? "")}`, {
        free_over: freeOver ?? null,
      });
    if (!result.ok) return showRegion(c, code, failure(result));
    return done(c, regionPath(code), "shipping_option_saved");
  })
  .post("/:code/shipping-options/:option/active", async (c) => {
    const code = c.req.param("code");
    const active = (await formFields(c)).active === "1";
    const result = await c
      .get("api")
      .send("PATCH", `${apiPath(code)}/shipping-options/${encodeURIComponent(c.req.param("option"))}`, {
        active,
      });
    if (!result.ok) return showRegion(c, code, failure(result));
    return done(c, regionPath(code), active ? "shipping_option_offered" : "shipping_option_withdrawn");
  });
