import { newId } from "../lib/ids";
import { ApiError, problems } from "../lib/problem";
import {
  invalidateRegionConfig,
  loadRegionConfig,
  REGION_CONFIG_SEQUENCE,
  type RegionConfig,
  type ShippingOption,
} from "./config";
import type {
  CreateRegionBody,
  CreateShippingOptionBody,
  PutTaxRateBody,
  RegionView,
  UpdateRegionBody,
  UpdateShippingOptionBody,
} from "./schemas";

/** Region views as the admin API shows them, from one consistent snapshot. */
export function regionViews(config: RegionConfig): RegionView[] {
  return [...config.regions.values()].map((region) => ({
    code: region.code,
    name: region.name,
    currency: region.currency,
    tax_inclusive: region.taxInclusive,
    tax_provider: region.taxProvider,
    default_country: region.defaultCountry,
    position: region.position,
    countries: region.countries,
    tax_rates: [...config.taxRates.values()]
      .filter((rate) => region.countries.includes(rate.country))
      .sort((a, b) =>
        `${a.country}|${a.subdivision}|${a.taxClass}`.localeCompare(
          `${b.country}|${b.subdivision}|${b.taxClass}`,
        ),
      )
      .map((rate) => ({
        id: rate.id,
        country: rate.country,
        subdivision: rate.subdivision,
        tax_class: rate.taxClass,
        rate_bp: rate.rateBp,
        name: rate.name,
      })),
    shipping_options: (config.shippingOptions.get(region.code) ?? []).map(optionView),
  }));
}

function optionView(option: ShippingOption): RegionView["shipping_options"][number] {
  return {
    id: option.id,
    name: option.name,
    price:
      option.priceType === "weight_bands"
        ? { type: "weight_bands", bands: option.weightBands ?? [] }
        : { type: "flat", amount: option.amount ?? 0 },
    free_over: option.freeOver,
    countries: option.countries,
    min_days: option.minDays,
    max_days: option.maxDays,
    position: option.position,
    active: option.active,
  };
}

export async function listRegions(env: Env): Promise<RegionView[]> {
  return regionViews(await loadRegionConfig(env));
}

export async function getRegion(env: Env, code: string): Promise<RegionView> {
  const view = regionViews(await loadRegionConfig(env)).find((region) => region.code === code);
  if (!view) throw problems.notFound("Region", "region_not_found");
  return view;
}

/**
 * Runs a change and the version bump as one D1 batch (one transaction): every isolate's
 * cached snapshot is outdated by the same commit that changes the data, never before or after.
 */
async function commit(env: Env, statements: D1PreparedStatement[]): Promise<void> {
  // A random version rather than a counter: two databases (or test worlds) never agree by accident.
  const version = Math.floor(Math.random() * Number.MAX_SAFE_INTEGER) + 1;
  try {
    await env.DB.batch([
      ...statements,
      env.DB.prepare(
        "INSERT INTO sequences (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      ).bind(REGION_CONFIG_SEQUENCE, version),
    ]);
  } catch (error) {
    // Two writers racing for the same country (or option id) meet at the primary key.
    if (/UNIQUE constraint failed|PRIMARY KEY/i.test(String(error))) {
      throw problems.conflict(
        "region_conflict",
        "A concurrent change claimed the same country or id; retry.",
      );
    }
    throw error;
  } finally {
    invalidateRegionConfig();
  }
}

/** A country belongs to at most one region: its shipping country decides a cart's region. */
function claimedElsewhere(config: RegionConfig, code: string, countries: readonly string[]): void {
  for (const country of countries) {
    const owner = config.regionByCountry.get(country);
    if (owner && owner !== code) {
      throw problems.conflict("country_in_other_region", `${country} already belongs to region ${owner}.`, {
        country,
        region: owner,
      });
    }
  }
}

const countryStatements = (env: Env, code: string, countries: readonly string[]) => [
  env.DB.prepare("DELETE FROM region_countries WHERE region_code = ?1").bind(code),
  ...countries.map((country) =>
    env.DB.prepare("INSERT INTO region_countries (country, region_code) VALUES (?1, ?2)").bind(country, code),
  ),
];

export async function createRegion(env: Env, body: CreateRegionBody): Promise<RegionView> {
  const config = await loadRegionConfig(env);
  if (config.regions.has(body.code)) {
    throw problems.conflict("region_code_taken", `A region with code ${body.code} already exists.`);
  }
  claimedElsewhere(config, body.code, body.countries);
  const now = Date.now();
  await commit(env, [
    env.DB.prepare(
      `INSERT INTO regions (code, name, currency, tax_inclusive, tax_provider, default_country, position, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)`,
    ).bind(
      body.code,
      body.name,
      body.currency,
      body.tax_inclusive ? 1 : 0,
      body.tax_provider,
      body.default_country,
      body.position,
      now,
    ),
    ...countryStatements(env, body.code, body.countries),
  ]);
  return getRegion(env, body.code);
}

export async function updateRegion(env: Env, code: string, body: UpdateRegionBody): Promise<RegionView> {
  const config = await loadRegionConfig(env);
  const region = config.regions.get(code);
  if (!region) throw problems.notFound("Region", "region_not_found");
  const countries = body.countries ?? region.countries;
  const defaultCountry = body.default_country ?? region.defaultCountry;
  if (!countries.includes(defaultCountry)) {
    throw problems.validation([
      { path: "body.default_country", message: "default_country must be one of countries" },
    ]);
  }
  if (body.countries) claimedElsewhere(config, code, body.countries);
  await commit(env, [
    env.DB.prepare(
      `UPDATE regions SET name = ?2, tax_inclusive = ?3, tax_provider = ?4, default_country = ?5, position = ?6,
         updated_at = ?7 WHERE code = ?1`,
    ).bind(
      code,
      body.name ?? region.name,
      (body.tax_inclusive ?? region.taxInclusive) ? 1 : 0,
      body.tax_provider ?? region.taxProvider,
      defaultCountry,
      body.position ?? region.position,
      Date.now(),
    ),
    ...(body.countries ? countryStatements(env, code, body.countries) : []),
  ]);
  return getRegion(env, code);
}

export async function putTaxRate(env: Env, code: string, body: PutTaxRateBody): Promise<RegionView> {
  const config = await loadRegionConfig(env);
  const region = config.regions.get(code);
  if (!region) throw problems.notFound("Region", "region_not_found");
  if (!region.countries.includes(body.country)) {
    throw new ApiError(422, "country_not_in_region", "Country not in region", {
      detail: `${body.country} is not one of region ${code}'s countries; add it to the region first.`,
      extensions: { country: body.country },
    });
  }
  const subdivision = body.subdivision ?? "";
  const taxClass = body.tax_class ?? "";
  const name =
    body.name ?? (subdivision ? `${subdivision} sales tax` : taxClass ? `VAT (${taxClass})` : "VAT");
  await commit(env, [
    env.DB.prepare(
      `INSERT INTO tax_rates (id, country, subdivision, tax_class, rate_bp, name, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT(country, subdivision, tax_class) DO UPDATE SET rate_bp = excluded.rate_bp, name = excluded.name,
         updated_at = excluded.updated_at`,
    ).bind(newId("txr"), body.country, subdivision, taxClass, body.rate_bp, name, Date.now()),
  ]);
  return getRegion(env, code);
}

/** Removes a rate; lookups fall back to the next less specific one (tax-rate-lookup.ts). */
export async function deleteTaxRate(env: Env, code: string, id: string): Promise<RegionView> {
  const config = await loadRegionConfig(env);
  const region = config.regions.get(code);
  const rate = [...config.taxRates.values()].find((candidate) => candidate.id === id);
  if (!region || !rate || !region.countries.includes(rate.country)) {
    throw problems.notFound("Tax rate", "tax_rate_not_found");
  }
  await commit(env, [env.DB.prepare("DELETE FROM tax_rates WHERE id = ?1").bind(id)]);
  return getRegion(env, code);
}

function checkOptionCountries(
  region: { code: string; countries: string[] },
  countries: readonly string[] | null | undefined,
) {
  const outside = (countries ?? []).filter((country) => !region.countries.includes(country));
  if (outside.length > 0) {
    throw problems.validation([
      { path: "body.countries", message: `not countries of region ${region.code}: ${outside.join(", ")}` },
    ]);
  }
}

const priceColumns = (price: CreateShippingOptionBody["price"]) =>
  price.type === "flat"
    ? { type: "flat", amount: price.amount, bands: null }
    : { type: "weight_bands", amount: null, bands: JSON.stringify(price.bands) };

export async function createShippingOption(
  env: Env,
  code: string,
  body: CreateShippingOptionBody,
): Promise<RegionView> {
  const config = await loadRegionConfig(env);
  const region = config.regions.get(code);
  if (!region) throw problems.notFound("Region", "region_not_found");
  checkOptionCountries(region, body.countries);
  const taken = [...config.shippingOptions.values()].flat().some((option) => option.id === body.id);
  if (taken)
    throw problems.conflict("shipping_option_id_taken", `A shipping option ${body.id} already exists.`);
  const price = priceColumns(body.price);
  const now = Date.now();
  await commit(env, [
    env.DB.prepare(
      `INSERT INTO shipping_options (id, region_code, name, price_type, amount, weight_bands, free_over, countries,
         min_days, max_days, position, active, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)`,
    ).bind(
      body.id,
      code,
      body.name,
      price.type,
      price.amount,
      price.bands,
      body.free_over ?? null,
      body.countries ? JSON.stringify(body.countries) : null,
      body.min_days,
      body.max_days,
      body.position ?? config.shippingOptions.get(code)?.length ?? 0,
      body.active === false ? 0 : 1,
      now,
    ),
  ]);
  return getRegion(env, code);
}

export async function updateShippingOption(
  env: Env,
  code: string,
  id: string,
  body: UpdateShippingOptionBody,
): Promise<RegionView> {
  const config = await loadRegionConfig(env);
  const region = config.regions.get(code);
  const option = config.shippingOptions.get(code)?.find((candidate) => candidate.id === id);
  if (!region || !option) throw problems.notFound("Shipping option", "shipping_option_not_found");
  checkOptionCountries(region, body.countries);
  const minDays = body.min_days ?? option.minDays;
  const maxDays = body.max_days ?? option.maxDays;
  if (minDays > maxDays)
    throw problems.validation([{ path: "body.max_days", message: "max_days < min_days" }]);
  const price = body.price
    ? priceColumns(body.price)
    : {
        type: option.priceType,
        amount: option.amount,
        bands: option.weightBands ? JSON.stringify(option.weightBands) : null,
      };
  const countries = body.countries === undefined ? option.countries : body.countries;
  await commit(env, [
    env.DB.prepare(
      `UPDATE shipping_options SET name = ?2, price_type = ?3, amount = ?4, weight_bands = ?5, free_over = ?6,
         countries = ?7, min_days = ?8, max_days = ?9, position = ?10, active = ?11, updated_at = ?12 WHERE id = ?1`,
    ).bind(
      id,
      body.name ?? option.name,
      price.type,
      price.amount,
      price.bands,
      body.free_over === undefined ? option.freeOver : body.free_over,
      countries === null ? null : JSON.stringify(countries),
      minDays,
      maxDays,
      body.position ?? option.position,
      (body.active ?? option.active) ? 1 : 0,
      Date.now(),
    ),
  ]);
  return getRegion(env, code);
}
