import type { Currency } from "../lib/money";
import type { PromotionRule } from "../promotions/rules";
import {
  countriesFor,
  defaultRegionFor,
  type Region,
  type RegionConfig,
  regionConfig,
  type ShippingOption,
} from "../regions/config";
import { selectTaxProvider } from "../regions/select-tax-provider";
import { quoteShipping, type ShippingQuote } from "../regions/shipping-quote";
import { tableTax } from "../regions/table-tax";
import type { TaxCalculation, TaxRequest } from "../regions/tax-provider";
import { subdivisionOf, type TaxLocation } from "../regions/tax-rate-lookup";
import type { CatalogItem } from "./catalog-prices";
import { completePricing, type PricedCart, type PricingLine, priceGoods, taxableLines } from "./pricing";
import type { Address } from "./schemas";

export interface CartPricingInput {
  currency: Currency;
  regionCode: string;
  address: Address | null;
  shippingMethod: string | null;
  lines: readonly PricingLine[];
  promotionCodes: readonly string[];
  catalog: ReadonlyMap<string, CatalogItem>;
  promotionRules: ReadonlyMap<string, PromotionRule>;
  now: number;
}

export interface CartPricing {
  region: Region | null;
  location: TaxLocation | null;
  priced: PricedCart;
  /** Every option of the region, quoted for this cart (unavailable ones say why). */
  quotes: ShippingQuote[];
  /** The chosen option's quote; null when none is chosen or it no longer exists. */
  selected: ShippingQuote | null;
}

/** The cart's region: the one it is in, else the default region of its currency (null: none sells in it). */
export function resolveRegion(config: RegionConfig, currency: Currency, code: string): Region | null {
  const region = config.regions.get(code);
  return region && region.currency === currency ? region : defaultRegionFor(config, currency);
}

/** Tax is owed where the goods ship; until the cart has an address, estimated for the region's default country. */
export function taxLocation(region: Region, address: Address | null): TaxLocation {
  return address
    ? { country: address.country, subdivision: subdivisionOf(address.country, address.region) }
    : { country: region.defaultCountry, subdivision: "" };
}

/**
 * Prices a cart in its region. For display the region snapshot may be this isolate's cached
 * one and tax comes from the tables; at checkout (`provider`) the snapshot is checked against
 * D1 first and the region's tax provider (Stripe Tax or the tables) computes the tax, so the
 * amount charged never rests on a stale copy.
 */
export async function priceCartInRegion(
  env: Env,
  input: CartPricingInput,
  options: {
    checkout?: boolean;
    fetchFn?: typeof fetch;
    /** At checkout: D1's region version, read by the caller with its catalog read. */
    regionVersion?: number;
  } = {},
): Promise<CartPricing> {
  const config = await regionConfig(env, {
    fresh: options.checkout === true,
    ...(options.regionVersion === undefined ? {} : { version: options.regionVersion }),
  });
  const region = resolveRegion(config, input.currency, input.regionCode);
  const goods = priceGoods({
    lines: input.lines,
    catalog: input.catalog,
    promotionCodes: input.promotionCodes,
    promotionRules: input.promotionRules,
    currency: input.currency,
    now: input.now,
  });
  const context = {
    country: input.address?.country ?? null,
    goodsTotal: goods.subtotal - goods.discount,
    weightGrams: goods.lines.reduce(
      (sum, line) => sum + (line.purchasable ? (line.item?.weightGrams ?? 0) * line.quantity : 0),
      0,
    ),
  };
  const regionOptions: readonly ShippingOption[] = region
    ? (config.shippingOptions.get(region.code) ?? [])
    : [];
  const quotes = regionOptions.map((option) => quoteShipping(option, context));
  const selected = quotes.find((quote) => quote.option.id === input.shippingMethod) ?? null;
  const shipping = selected?.ok ? selected.amount : 0;
  const location = region ? taxLocation(region, input.address) : null;
  const request: TaxRequest = {
    currency: input.currency,
    taxInclusive: region?.taxInclusive ?? true,
    location: location ?? { country: "", subdivision: "" },
    address: input.address,
    lines: taxableLines(goods),
    shipping,
  };
  let calculation: TaxCalculation;
  if (region && options.checkout) {
    calculation = await selectTaxProvider(env, region, config, options.fetchFn).calculate(request);
  } else {
    calculation = tableTax(config, request);
  }
  return {
    region,
    location,
    priced: completePricing(goods, shipping, calculation, request.taxInclusive),
    quotes,
    selected,
  };
}

export type RegionForCountry = { ok: true; region: Region } | { ok: false; countries: string[] };

/**
 * The region a cart in `currency` moves to when it ships to `country`. A miss is re-checked
 * against D1 before refusing, so a country the merchant just added is never refused from a
 * stale snapshot.
 */
export async function regionForCountry(
  env: Env,
  currency: Currency,
  country: string,
): Promise<RegionForCountry> {
  for (const fresh of [false, true]) {
    const config = await regionConfig(env, { fresh });
    const code = config.regionByCountry.get(country);
    const region = code ? config.regions.get(code) : undefined;
    if (region && region.currency === currency) return { ok: true, region };
    if (fresh) return { ok: false, countries: countriesFor(config, currency) };
  }
  return { ok: false, countries: [] };
}

/** A region's shipping option by id, re-checked against D1 before reporting it unknown. */
export async function shippingOptionIn(
  env: Env,
  regionCode: string,
  id: string,
): Promise<ShippingOption | null> {
  for (const fresh of [false, true]) {
    const config = await regionConfig(env, { fresh });
    const option = config.shippingOptions.get(regionCode)?.find((candidate) => candidate.id === id);
    if (option) return option;
  }
  return null;
}

/** The default region of a currency for a new cart (checked against D1 when the snapshot has none). */
export async function initialRegion(env: Env, currency: Currency): Promise<Region | null> {
  return (
    defaultRegionFor(await regionConfig(env), currency) ??
    defaultRegionFor(await regionConfig(env, { fresh: true }), currency)
  );
}
