import { asc, eq } from "drizzle-orm";
import { database } from "../../db/client";
import {
  regionCountries,
  regions,
  sequences,
  shippingOptions,
  type TaxProviderName,
  taxRates,
  type WeightBand,
} from "../../db/schema";
import type { Currency } from "../lib/money";

export interface Region {
  code: string;
  name: string;
  currency: Currency;
  taxInclusive: boolean;
  taxProvider: TaxProviderName;
  defaultCountry: string;
  position: number;
  countries: string[];
}

export interface ShippingOption {
  id: string;
  regionCode: string;
  name: string;
  priceType: "flat" | "weight_bands";
  amount: number | null;
  weightBands: WeightBand[] | null;
  freeOver: number | null;
  /** null: every country of the region. */
  countries: string[] | null;
  minDays: number;
  maxDays: number;
  position: number;
  active: boolean;
}

export interface TaxRate {
  id: string;
  country: string;
  subdivision: string;
  taxClass: string;
  rateBp: number;
  name: string;
}

/** Everything pricing needs to know about the merchant's markets, as one immutable snapshot. */
export interface RegionConfig {
  /** Changes (to a new random value) with every admin write, in the same D1 batch. */
  version: number;
  regions: ReadonlyMap<string, Region>;
  regionByCountry: ReadonlyMap<string, string>;
  /** Per region, ordered by position. */
  shippingOptions: ReadonlyMap<string, readonly ShippingOption[]>;
  /** Keyed `country|subdivision|taxClass`. */
  taxRates: ReadonlyMap<string, TaxRate>;
}

export const REGION_CONFIG_SEQUENCE = "region_config";

/**
 * How long an isolate prices carts from its cached snapshot before asking D1 whether the
 * version changed. Checkout never uses an unchecked snapshot (`fresh`), so staleness only
 * ever affects what a cart shows, for at most this long after an edit in another isolate.
 */
export const REGION_CONFIG_RECHECK_MS = 30_000;

export const taxRateKey = (country: string, subdivision: string, taxClass: string) =>
  `${country}|${subdivision}|${taxClass}`;

let cached: { config: RegionConfig; checkedAt: number } | null = null;

/**
 * The region configuration. Served from this isolate's cache for up to
 * `REGION_CONFIG_RECHECK_MS`; after that (or when `fresh`) one single-row read of the version
 * decides whether the cached snapshot is still D1's state, and only a changed version
 * reloads the tables (in one batch, so the snapshot is consistent).
 */
export async function regionConfig(
  env: Env,
  options: {
    fresh?: boolean;
    /** D1's version, read just now in the caller's own batch (`regionConfigVersionQuery`): counts as fresh. */
    version?: number;
  } = {},
): Promise<RegionConfig> {
  const now = Date.now();
  const fresh = options.fresh === true || options.version !== undefined;
  if (cached && !fresh && now - cached.checkedAt < REGION_CONFIG_RECHECK_MS) return cached.config;
  if (cached) {
    const version =
      options.version ??
      (
        await env.DB.prepare("SELECT value FROM sequences WHERE name = ?1")
          .bind(REGION_CONFIG_SEQUENCE)
          .first<{ value: number }>()
      )?.value ??
      0;
    if (version === cached.config.version) {
      cached.checkedAt = now;
      return cached.config;
    }
  }
  const config = await loadRegionConfig(env);
  cached = { config, checkedAt: now };
  return config;
}

/** The version read `regionConfig` checks its snapshot with, for a caller's batch (a row, or none before any edit). */
export function regionConfigVersionQuery(env: Env) {
  return database(env.DB)
    .select({ value: sequences.value })
    .from(sequences)
    .where(eq(sequences.name, REGION_CONFIG_SEQUENCE));
}

/** Forgets this isolate's snapshot: the next read goes to D1 (admin writes call it). */
export function invalidateRegionConfig(): void {
  cached = null;
}

/** Reads the whole configuration from D1 in one batch (one consistent snapshot). */
export async function loadRegionConfig(env: Env): Promise<RegionConfig> {
  const db = database(env.DB);
  const [versionRows, regionRows, countryRows, optionRows, rateRows] = await db.batch([
    db.select({ value: sequences.value }).from(sequences).where(eq(sequences.name, REGION_CONFIG_SEQUENCE)),
    db.select().from(regions).orderBy(asc(regions.position), asc(regions.code)),
    db.select().from(regionCountries).orderBy(asc(regionCountries.country)),
    db.select().from(shippingOptions).orderBy(asc(shippingOptions.position), asc(shippingOptions.id)),
    db.select().from(taxRates),
  ]);
  const countriesOf = new Map<string, string[]>();
  for (const row of countryRows) {
    countriesOf.set(row.regionCode, [...(countriesOf.get(row.regionCode) ?? []), row.country]);
  }
  const options = new Map<string, ShippingOption[]>();
  for (const row of optionRows) {
    options.set(row.regionCode, [
      ...(options.get(row.regionCode) ?? []),
      {
        id: row.id,
        regionCode: row.regionCode,
        name: row.name,
        priceType: row.priceType,
        amount: row.amount,
        weightBands: row.weightBands ?? null,
        freeOver: row.freeOver,
        countries: row.countries ?? null,
        minDays: row.minDays,
        maxDays: row.maxDays,
        position: row.position,
        active: row.active,
      },
    ]);
  }
  return {
    version: versionRows[0]?.value ?? 0,
    regions: new Map(
      regionRows.map((row) => [
        row.code,
        {
          code: row.code,
          name: row.name,
          currency: row.currency as Currency,
          taxInclusive: row.taxInclusive,
          taxProvider: row.taxProvider,
          defaultCountry: row.defaultCountry,
          position: row.position,
          countries: countriesOf.get(row.code) ?? [],
        },
      ]),
    ),
    regionByCountry: new Map(countryRows.map((row) => [row.country, row.regionCode])),
    shippingOptions: options,
    taxRates: new Map(
      rateRows.map((row) => [
        taxRateKey(row.country, row.subdivision, row.taxClass),
        {
          id: row.id,
          country: row.country,
          subdivision: row.subdivision,
          taxClass: row.taxClass,
          rateBp: row.rateBp,
          name: row.name,
        },
      ]),
    ),
  };
}

/** The region a new cart in `currency` starts in: the lowest-positioned one pricing in it. */
export function defaultRegionFor(config: RegionConfig, currency: Currency): Region | null {
  for (const region of config.regions.values()) if (region.currency === currency) return region;
  return null;
}

/** Every country a cart in `currency` can ship to, across the regions pricing in it. */
export function countriesFor(config: RegionConfig, currency: Currency): string[] {
  return [...config.regions.values()]
    .filter((region) => region.currency === currency)
    .flatMap((region) => region.countries)
    .sort();
}
