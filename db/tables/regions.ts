import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const TAX_PROVIDERS = ["tables", "stripe"] as const;
export type TaxProviderName = (typeof TAX_PROVIDERS)[number];

/**
 * Selling regions: the merchant's markets. A region prices in one currency (several regions
 * may share one), ships to its countries and says whether its prices include tax. The code
 * is the key carts remember (`US`, `EU` …), so it never changes once created.
 */
export const regions = sqliteTable(
  "regions",
  {
    code: text("code").primaryKey(),
    name: text("name").notNull(),
    currency: text("currency").notNull(),
    taxInclusive: integer("tax_inclusive", { mode: "boolean" }).notNull(),
    /** Who computes tax at checkout: the built-in tables, or Stripe Tax (tables as the offline default). */
    taxProvider: text("tax_provider", { enum: TAX_PROVIDERS }).notNull().default("tables"),
    /** Country a cart's tax is estimated for until it has a shipping address. */
    defaultCountry: text("default_country").notNull(),
    /** A new cart in a currency starts in the lowest-positioned region pricing in it. */
    position: integer("position").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("regions_currency_idx").on(t.currency, t.position)],
);

/** Which region ships to a country: at most one, so a shipping country decides a cart's region. */
export const regionCountries = sqliteTable(
  "region_countries",
  {
    country: text("country").primaryKey(),
    regionCode: text("region_code")
      .notNull()
      .references(() => regions.code),
  },
  (t) => [index("region_countries_region_idx").on(t.regionCode)],
);

/**
 * Tax rates in basis points (1900 = 19 %). `subdivision` '' is the country-wide rate; a
 * subdivision's row (a US state, a Canadian province) is the whole rate there and replaces
 * the country's. `tax_class` '' is the standard rate; a product whose tax class has a row
 * (e.g. `reduced`) pays that rate instead.
 */
export const taxRates = sqliteTable(
  "tax_rates",
  {
    id: text("id").primaryKey(),
    country: text("country").notNull(),
    subdivision: text("subdivision").notNull().default(""),
    taxClass: text("tax_class").notNull().default(""),
    rateBp: integer("rate_bp").notNull(),
    /** Shown on receipts: "USt. 19 %", "CA state sales tax". */
    name: text("name").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("tax_rates_scope_unique").on(t.country, t.subdivision, t.taxClass)],
);

export const SHIPPING_PRICE_TYPES = ["flat", "weight_bands"] as const;

/** One weight band: carts up to `max_grams` (inclusive) pay `amount`. */
export interface WeightBand {
  max_grams: number;
  amount: number;
}

/**
 * A shipping option of a region. Priced flat or by cart weight (bands, ascending), optionally
 * free once the discounted goods total reaches `free_over`; offered to every country of the
 * region, or only to `countries` when set.
 */
export const shippingOptions = sqliteTable(
  "shipping_options",
  {
    id: text("id").primaryKey(),
    regionCode: text("region_code")
      .notNull()
      .references(() => regions.code),
    name: text("name").notNull(),
    priceType: text("price_type", { enum: SHIPPING_PRICE_TYPES }).notNull(),
    /** Flat price in the region's currency (minor units); null for weight-band options. */
    amount: integer("amount"),
    weightBands: text("weight_bands", { mode: "json" }).$type<WeightBand[]>(),
    freeOver: integer("free_over"),
    countries: text("countries", { mode: "json" }).$type<string[]>(),
    minDays: integer("min_days").notNull(),
    maxDays: integer("max_days").notNull(),
    position: integer("position").notNull().default(0),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("shipping_options_region_idx").on(t.regionCode, t.position)],
);

/**
 * The tax an order was charged, one row per taxed line and one for shipping (`position`
 * null): rate and amounts as computed at checkout, whatever the tables or Stripe say later.
 */
export const orderTaxLines = sqliteTable(
  "order_tax_lines",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    /** The order line's position; null for the shipping charge. */
    position: integer("position"),
    country: text("country").notNull(),
    subdivision: text("subdivision").notNull(),
    taxClass: text("tax_class").notNull(),
    rateBp: integer("rate_bp").notNull(),
    taxableAmount: integer("taxable_amount").notNull(),
    amount: integer("amount").notNull(),
    name: text("name").notNull(),
    provider: text("provider", { enum: TAX_PROVIDERS }).notNull(),
    /** Stripe Tax calculation id, when Stripe computed it. */
    providerReference: text("provider_reference"),
  },
  (t) => [index("order_tax_lines_order_idx").on(t.orderId, t.position)],
);
