/*
 * The demo merchant's selling regions, tax rates and shipping options. Pure data (Node runs
 * this file directly): migration 0012 inserts the same rows so carts created before regions
 * became data keep their region codes, and test/regions-seed.test.ts keeps the two in step.
 *
 * Rates are standard VAT rates as of 2026 and US *state base* sales-tax rates only (no
 * county, city or district add-ons): a merchant with nexus there sets its own combined
 * rates, or uses Stripe Tax.
 */

export interface SeedRegion {
  code: string;
  name: string;
  currency: string;
  tax_inclusive: boolean;
  default_country: string;
  position: number;
  countries: string[];
}

export interface SeedTaxRate {
  country: string;
  subdivision: string;
  tax_class: string;
  rate_bp: number;
  name: string;
}

export interface SeedShippingOption {
  id: string;
  region_code: string;
  name: string;
  amount: number;
  min_days: number;
  max_days: number;
  countries: string[] | null;
  position: number;
}

export const SEED_REGIONS: readonly SeedRegion[] = [
  {
    code: "US",
    name: "United States",
    currency: "USD",
    tax_inclusive: false,
    default_country: "US",
    position: 0,
    countries: ["US"],
  },
  {
    code: "EU",
    name: "European Union",
    currency: "EUR",
    tax_inclusive: true,
    default_country: "DE",
    position: 0,
    countries: ["AT", "BE", "DE", "ES", "FI", "FR", "IE", "IT", "LU", "NL", "PT"],
  },
  {
    code: "GB",
    name: "United Kingdom",
    currency: "GBP",
    tax_inclusive: true,
    default_country: "GB",
    position: 0,
    countries: ["GB"],
  },
  {
    code: "JP",
    name: "Japan",
    currency: "JPY",
    tax_inclusive: true,
    default_country: "JP",
    position: 0,
    countries: ["JP"],
  },
];

const vat = (country: string, rate_bp: number, tax_class = ""): SeedTaxRate => ({
  country,
  subdivision: "",
  tax_class,
  rate_bp,
  name: tax_class === "" ? "VAT" : `VAT (${tax_class})`,
});

const state = (subdivision: string, rate_bp: number): SeedTaxRate => ({
  country: "US",
  subdivision,
  tax_class: "",
  rate_bp,
  name: `${subdivision} state sales tax`,
});

export const SEED_TAX_RATES: readonly SeedTaxRate[] = [
  vat("AT", 2000),
  vat("BE", 2100),
  vat("DE", 1900),
  vat("DE", 700, "reduced"),
  vat("ES", 2100),
  vat("FI", 2550),
  vat("FR", 2000),
  vat("FR", 550, "reduced"),
  vat("IE", 2300),
  vat("IT", 2200),
  vat("LU", 1700),
  vat("NL", 2100),
  vat("NL", 900, "reduced"),
  vat("PT", 2300),
  vat("GB", 2000),
  { country: "JP", subdivision: "", tax_class: "", rate_bp: 1000, name: "Consumption tax" },
  state("CA", 725),
  state("IL", 625),
  state("NY", 400),
  state("TX", 625),
  state("WA", 650),
];

export const SEED_SHIPPING_OPTIONS: readonly SeedShippingOption[] = [
  {
    id: "us_standard",
    region_code: "US",
    name: "Standard",
    amount: 599,
    min_days: 3,
    max_days: 5,
    countries: null,
    position: 0,
  },
  {
    id: "us_express",
    region_code: "US",
    name: "Express",
    amount: 1999,
    min_days: 1,
    max_days: 2,
    countries: null,
    position: 1,
  },
  {
    id: "eu_standard",
    region_code: "EU",
    name: "Standard",
    amount: 499,
    min_days: 3,
    max_days: 7,
    countries: null,
    position: 0,
  },
  {
    id: "eu_express",
    region_code: "EU",
    name: "Express",
    amount: 1499,
    min_days: 1,
    max_days: 3,
    // The carrier's express network: not to the islands and the periphery.
    countries: ["AT", "BE", "DE", "FR", "LU", "NL"],
    position: 1,
  },
  {
    id: "gb_standard",
    region_code: "GB",
    name: "Standard",
    amount: 399,
    min_days: 2,
    max_days: 4,
    countries: null,
    position: 0,
  },
  {
    id: "gb_next_day",
    region_code: "GB",
    name: "Next day",
    amount: 999,
    min_days: 1,
    max_days: 1,
    countries: null,
    position: 1,
  },
  {
    id: "jp_standard",
    region_code: "JP",
    name: "Standard",
    amount: 600,
    min_days: 2,
    max_days: 4,
    countries: null,
    position: 0,
  },
  {
    id: "jp_express",
    region_code: "JP",
    name: "Express",
    amount: 1500,
    min_days: 1,
    max_days: 1,
    countries: null,
    position: 1,
  },
];

/** Stable id of a seeded tax rate, derived from its scope so re-seeding addresses the same row. */
export const seedTaxRateId = (rate: SeedTaxRate): string =>
  `txr_${rate.country}_${rate.subdivision || "all"}_${rate.tax_class || "standard"}`.toLowerCase();

const literal = (value: string | number | boolean | null): string =>
  value === null
    ? "NULL"
    : typeof value === "boolean"
      ? value
        ? "1"
        : "0"
      : typeof value === "number"
        ? String(value)
        : `'${value.replaceAll("'", "''")}'`;

const insert = (table: string, columns: string[], rows: (string | number | boolean | null)[][]): string =>
  `INSERT INTO ${table} (${columns.join(", ")}) VALUES\n${rows
    .map((row) => `  (${row.map(literal).join(", ")})`)
    .join(",\n")}\nON CONFLICT DO NOTHING;`;

/**
 * The seed as SQL statements: `ON CONFLICT DO NOTHING`, so re-seeding never clobbers what a
 * merchant changed through the admin API. `at` stamps created/updated times.
 */
export function seedRegionSql(at: number): string[] {
  return [
    insert(
      "regions",
      [
        "code",
        "name",
        "currency",
        "tax_inclusive",
        "tax_provider",
        "default_country",
        "position",
        "created_at",
        "updated_at",
      ],
      SEED_REGIONS.map((r) => [
        r.code,
        r.name,
        r.currency,
        r.tax_inclusive,
        "tables",
        r.default_country,
        r.position,
        at,
        at,
      ]),
    ),
    insert(
      "region_countries",
      ["country", "region_code"],
      SEED_REGIONS.flatMap((r) => r.countries.map((country) => [country, r.code])),
    ),
    insert(
      "tax_rates",
      ["id", "country", "subdivision", "tax_class", "rate_bp", "name", "updated_at"],
      SEED_TAX_RATES.map((t) => [
        seedTaxRateId(t),
        t.country,
        t.subdivision,
        t.tax_class,
        t.rate_bp,
        t.name,
        at,
      ]),
    ),
    insert(
      "shipping_options",
      [
        "id",
        "region_code",
        "name",
        "price_type",
        "amount",
        "weight_bands",
        "free_over",
        "countries",
        "min_days",
        "max_days",
        "position",
        "active",
        "created_at",
        "updated_at",
      ],
      SEED_SHIPPING_OPTIONS.map((o) => [
        o.id,
        o.region_code,
        o.name,
        "flat",
        o.amount,
        null,
        null,
        o.countries === null ? null : JSON.stringify(o.countries),
        o.min_days,
        o.max_days,
        o.position,
        true,
        at,
        at,
      ]),
    ),
    "INSERT INTO sequences (name, value) VALUES ('region_config', 1) ON CONFLICT DO NOTHING;",
  ];
}
