import type {
  categories,
  media,
  prices,
  productAttributes,
  productCategories,
  products,
  variants,
} from "./tables/catalog";

/*
 * Deterministic demo catalog. Pure: no I/O, no clock, no Math.random, so the same options
 * always produce byte-identical rows and SQL. Node runs this file directly (type stripping),
 * so it uses type-only imports and no TypeScript-only runtime syntax.
 */

export type CategoryRow = typeof categories.$inferInsert;
export type ProductRow = typeof products.$inferInsert;
export type VariantRow = typeof variants.$inferInsert;
export type PriceRow = typeof prices.$inferInsert;
export type ProductCategoryRow = typeof productCategories.$inferInsert;
export type MediaRow = typeof media.$inferInsert;
export type ProductAttributeRow = typeof productAttributes.$inferInsert;

/** One product with every row that hangs off it, in foreign-key order. */
export interface SeedProduct {
  product: ProductRow;
  variants: VariantRow[];
  prices: PriceRow[];
  categories: ProductCategoryRow[];
  media: MediaRow[];
  attributes: ProductAttributeRow[];
}

export interface SeedOptions {
  /** Active products to generate (drafts and archived products come on top). Default 200. */
  products?: number;
  /** PRNG seed: change it for a different but equally deterministic catalog. Default 1. */
  seed?: number;
}

/** Currencies every seeded variant is priced in. */
export const SEED_CURRENCIES = ["USD", "EUR", "GBP"] as const;

/**
 * The flash-sale demo product: one SKU with a fixed stock of 100. The inventory domain
 * configures its sale window and limits; the catalog marks it with the attribute
 * `collection = flash-sale`.
 */
export const FLASH_SALE = {
  productId: "prod_f1a5h5a1e00000000001",
  slug: "limited-drop-hoodie",
  sku: "POP-DROP-001",
  onHand: 100,
} as const;

/** All seed timestamps count back from this instant (2026-01-01T00:00:00Z) so reruns match. */
const EPOCH = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

/** mulberry32: tiny, fast, good enough for demo data, and identical on every platform. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE32 = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A fixed id in the same shape as `newId` (prefix + 20 Crockford base32 characters),
 * derived from (kind, index, seed) so re-seeding addresses the same rows.
 */
export function seedId(prefix: string, index: number, seed = 1): string {
  const rng = createRng(hash32(`${prefix}:${index}:${seed}`));
  let out = "";
  for (let i = 0; i < 20; i++) out += BASE32[Math.floor(rng() * 32)];
  return `${prefix}_${out}`;
}

function hash32(text: string): number {
  // FNV-1a
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

interface CategoryDef {
  slug: string;
  name: string;
  description: string;
  parent?: string;
}

const CATEGORY_DEFS: CategoryDef[] = [
  { slug: "apparel", name: "Apparel", description: "Everyday clothing." },
  { slug: "tops", name: "Tops", description: "Tees, shirts and knitwear.", parent: "apparel" },
  { slug: "bottoms", name: "Bottoms", description: "Trousers, jeans and shorts.", parent: "apparel" },
  { slug: "outerwear", name: "Outerwear", description: "Jackets and coats.", parent: "apparel" },
  { slug: "footwear", name: "Footwear", description: "Shoes for every day." },
  { slug: "sneakers", name: "Sneakers", description: "Low and high tops.", parent: "footwear" },
  { slug: "boots", name: "Boots", description: "Leather and weatherproof boots.", parent: "footwear" },
  { slug: "accessories", name: "Accessories", description: "Bags, hats and small goods." },
  { slug: "bags", name: "Bags", description: "Totes, backpacks and pouches.", parent: "accessories" },
  { slug: "hats", name: "Hats", description: "Caps and beanies.", parent: "accessories" },
  { slug: "home", name: "Home", description: "Objects for the home." },
  { slug: "kitchen", name: "Kitchen", description: "Mugs, pots and tools.", parent: "home" },
  { slug: "decor", name: "Decor", description: "Cushions, candles and vases.", parent: "home" },
];

const categoryIdBySlug = new Map(CATEGORY_DEFS.map((def, i) => [def.slug, seedId("cat", i, 0)]));

/** The seeded category tree (roots first, so parents always precede children). */
export function seedCategories(): CategoryRow[] {
  const positions = new Map<string | undefined, number>();
  return CATEGORY_DEFS.map((def, i) => {
    const position = positions.get(def.parent) ?? 0;
    positions.set(def.parent, position + 1);
    return {
      id: categoryIdBySlug.get(def.slug) ?? "",
      slug: def.slug,
      name: def.name,
      description: def.description,
      parentId: def.parent ? (categoryIdBySlug.get(def.parent) ?? null) : null,
      position,
      createdAt: EPOCH - (CATEGORY_DEFS.length - i) * MINUTE,
      updatedAt: EPOCH - (CATEGORY_DEFS.length - i) * MINUTE,
    };
  });
}

interface Archetype {
  category: string;
  code: string;
  nouns: string[];
  sizes: string[];
  /** USD price range in whole dollars. */
  price: [number, number];
  grams: [number, number];
  materials: string[];
  image: string;
  fits?: string[];
}

const APPAREL_SIZES = ["XS", "S", "M", "L", "XL"];
const FIT = ["slim", "regular", "relaxed"];

const ARCHETYPES: Archetype[] = [
  {
    category: "tops",
    code: "TOP",
    nouns: ["Tee", "Crewneck", "Polo", "Oxford Shirt", "Henley", "Hoodie", "Cardigan"],
    sizes: APPAREL_SIZES,
    price: [19, 89],
    grams: [150, 550],
    materials: ["cotton", "organic cotton", "merino wool", "linen"],
    image: "top",
    fits: FIT,
  },
  {
    category: "bottoms",
    code: "BTM",
    nouns: ["Chinos", "Jeans", "Shorts", "Joggers", "Cargo Pants"],
    sizes: ["28", "30", "32", "34", "36"],
    price: [39, 129],
    grams: [300, 800],
    materials: ["cotton twill", "denim", "linen", "recycled polyester"],
    image: "bottom",
    fits: FIT,
  },
  {
    category: "outerwear",
    code: "OUT",
    nouns: ["Parka", "Rain Jacket", "Bomber", "Overshirt", "Puffer Vest"],
    sizes: ["S", "M", "L", "XL"],
    price: [89, 349],
    grams: [500, 1600],
    materials: ["waxed cotton", "recycled nylon", "wool blend", "canvas"],
    image: "outerwear",
    fits: ["regular", "relaxed"],
  },
  {
    category: "sneakers",
    code: "SNK",
    nouns: ["Runner", "Court Sneaker", "High Top", "Trail Shoe"],
    sizes: ["39", "40", "41", "42", "43", "44", "45"],
    price: [69, 189],
    grams: [700, 1100],
    materials: ["leather", "suede", "recycled mesh", "canvas"],
    image: "footwear",
  },
  {
    category: "boots",
    code: "BOT",
    nouns: ["Chelsea Boot", "Hiking Boot", "Work Boot"],
    sizes: ["39", "40", "41", "42", "43", "44", "45"],
    price: [129, 289],
    grams: [1100, 1900],
    materials: ["leather", "suede", "waxed leather"],
    image: "footwear",
  },
  {
    category: "bags",
    code: "BAG",
    nouns: ["Tote", "Backpack", "Sling Bag", "Weekender", "Pouch"],
    sizes: ["One size"],
    price: [24, 219],
    grams: [150, 1300],
    materials: ["canvas", "leather", "recycled nylon"],
    image: "accessory",
  },
  {
    category: "hats",
    code: "HAT",
    nouns: ["Cap", "Beanie", "Bucket Hat"],
    sizes: ["S/M", "L/XL"],
    price: [19, 49],
    grams: [60, 140],
    materials: ["cotton", "merino wool", "recycled polyester"],
    image: "accessory",
  },
  {
    category: "kitchen",
    code: "KIT",
    nouns: ["Mug", "Pour-over Set", "Cast Iron Pan", "Chef Knife", "Tea Towel Set"],
    sizes: ["Standard"],
    price: [14, 159],
    grams: [200, 2800],
    materials: ["stoneware", "cast iron", "carbon steel", "linen"],
    image: "home",
  },
  {
    category: "decor",
    code: "DEC",
    nouns: ["Cushion Cover", "Candle", "Vase", "Throw Blanket", "Planter"],
    sizes: ["Standard"],
    price: [16, 139],
    grams: [150, 1500],
    materials: ["wool", "soy wax", "glass", "stoneware", "linen"],
    image: "home",
  },
];

const COLOURS = [
  ["Black", "BLK"],
  ["White", "WHT"],
  ["Navy", "NVY"],
  ["Olive", "OLV"],
  ["Sand", "SND"],
  ["Rust", "RST"],
  ["Forest", "FOR"],
  ["Slate", "SLT"],
  ["Oat", "OAT"],
  ["Sky", "SKY"],
] as const;

const BRANDS = [
  ["Northwind", "NWD"],
  ["Tidewater", "TDW"],
  ["Kestrel & Co", "KST"],
  ["Field Theory", "FLD"],
  ["Lumen", "LMN"],
  ["Harbor Supply", "HBR"],
  ["Oakline", "OAK"],
  ["Meridian", "MRD"],
  ["Parcel", "PCL"],
  ["Saltmarsh", "SLM"],
  ["Common Thread", "CMT"],
  ["Popcart Basics", "PCB"],
] as const;

const ADJECTIVES = [
  "Everyday",
  "Classic",
  "Heavyweight",
  "Featherweight",
  "Heritage",
  "Essential",
  "Garment-dyed",
  "Field",
  "Coastal",
  "Urban",
  "Alpine",
  "Studio",
  "Weekend",
  "Workshop",
  "Trail",
  "Harbour",
];

const SEASONS = ["all-season", "spring-summer", "autumn-winter"];
const ORIGINS = ["Portugal", "Japan", "Vietnam", "India", "Peru", "Italy", "United Kingdom", "Mexico"];

/** Placeholder images shipped in `static/images/placeholders/`; sizes match the SVGs. */
export const PLACEHOLDER_IMAGES: Record<string, { width: number; height: number }> = {
  top: { width: 800, height: 1000 },
  bottom: { width: 800, height: 1000 },
  outerwear: { width: 800, height: 1000 },
  footwear: { width: 1000, height: 800 },
  accessory: { width: 800, height: 800 },
  home: { width: 800, height: 800 },
};

const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const between = (rng: () => number, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/&/g, "and")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** EAN-13 in the in-store 200–299 prefix range, unique per variant ordinal. */
function ean13(ordinal: number): string {
  const body = `2${String(ordinal).padStart(11, "0")}`;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(body[i]) * (i % 2 === 0 ? 1 : 3);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/** Whole-unit prices ending in .99 or .00 like a real shop; integer minor units throughout. */
function charm(minor: number, ends99: boolean): number {
  const whole = Math.max(1, Math.floor(minor / 100));
  return ends99 ? whole * 100 + 99 : whole * 100;
}

// Basis points per USD, so conversions stay integer arithmetic.
const FX_BP: Record<(typeof SEED_CURRENCIES)[number], number> = { USD: 10_000, EUR: 9_200, GBP: 7_900 };

function statusFor(index: number, active: number): ProductRow["status"] {
  if (index < active) return "active";
  // Every third extra product is archived; the rest are drafts.
  return (index - active) % 3 === 2 ? "archived" : "draft";
}

/**
 * Streams the seeded products one at a time (memory stays flat for 100 000+ products).
 * Product 0 is the flash-sale product; slugs and SKUs are unique across the stream.
 */
export function* seedProducts(options: SeedOptions = {}): Generator<SeedProduct> {
  const active = options.products ?? 200;
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(active) || active < 1) throw new Error("products must be a positive integer");
  const extras = Math.max(3, Math.round(active * 0.02));
  const total = active + extras;
  const rng = createRng(seed);
  const slugCounts = new Map<string, number>();
  let variantOrdinal = 0;

  for (let index = 0; index < total; index++) {
    const flash = index === 0;
    const archetype = flash ? (ARCHETYPES[0] as Archetype) : pick(rng, ARCHETYPES);
    const [brand, brandCode] = flash ? (["Popcart Basics", "PCB"] as const) : pick(rng, BRANDS);
    const material = pick(rng, archetype.materials);
    const noun = flash ? "Hoodie" : pick(rng, archetype.nouns);
    const adjective = pick(rng, ADJECTIVES);
    const title = flash ? "Limited Drop Hoodie" : `${adjective} ${capitalise(material)} ${noun}`;

    const baseSlug = flash ? FLASH_SALE.slug : slugify(`${brand} ${title}`);
    const seen = slugCounts.get(baseSlug) ?? 0;
    slugCounts.set(baseSlug, seen + 1);
    const slug = seen === 0 ? baseSlug : `${baseSlug}-${seen + 1}`;

    const productId = flash ? FLASH_SALE.productId : seedId("prod", index, seed);
    const createdAt = EPOCH - (total - index) * 7 * MINUTE;
    const updatedAt = createdAt + between(rng, 0, 5_000) * MINUTE;
    const status = statusFor(index, active);
    const product: ProductRow = {
      id: productId,
      slug,
      title,
      description: flash
        ? "A numbered run of 100 heavyweight hoodies, sold once during a timed flash sale."
        : `${title} by ${brand}, made from ${material}. ${pick(rng, DESCRIPTIONS)}`,
      brand,
      status,
      featured: flash || (status === "active" && rng() < 0.04),
      popularity: Math.floor(rng() ** 3 * 1000),
      revision: 1,
      createdAt,
      updatedAt,
    };

    const colourCount = flash ? 1 : between(rng, 1, 3);
    const colours = shuffled(rng, COLOURS).slice(0, colourCount);
    const sizes = flash ? ["One size"] : sizeRange(rng, archetype.sizes);
    const ends99 = rng() < 0.7;
    const basePrice = charm(between(rng, archetype.price[0], archetype.price[1]) * 100, ends99);
    const onSale = !flash && rng() < 0.15;
    const productNumber = String(index).padStart(6, "0");

    const variantRows: VariantRow[] = [];
    const priceRows: PriceRow[] = [];
    let position = 0;
    for (const [colour, colourCode] of flash ? ([["Volt", "VLT"]] as const) : colours) {
      for (const size of sizes) {
        const variantId = seedId("var", variantOrdinal, seed);
        const sku = flash
          ? FLASH_SALE.sku
          : `${brandCode}-${archetype.code}-${productNumber}-${colourCode}-${slugify(size).toUpperCase() || "OS"}`;
        variantRows.push({
          id: variantId,
          productId,
          sku,
          title: size === "One size" || size === "Standard" ? colour : `${colour} / ${size}`,
          options: { size, colour },
          weightGrams: between(rng, archetype.grams[0], archetype.grams[1]),
          barcode: ean13(variantOrdinal),
          position: position++,
          status: "active",
          createdAt,
          updatedAt,
        });
        // Larger sizes of outerwear and boots cost a little more.
        const upcharge = size === "XL" || size === "45" ? 500 : 0;
        const usd = basePrice + upcharge;
        for (const currency of SEED_CURRENCIES) {
          const amount =
            currency === "USD" ? usd : charm(Math.floor((usd * FX_BP[currency]) / 10_000), ends99);
          priceRows.push({
            variantId,
            currency,
            amount,
            compareAtAmount: onSale ? Math.round((amount * 125) / 10_000) * 100 : null,
            updatedAt,
          });
        }
        variantOrdinal++;
      }
    }

    const category = categoryIdBySlug.get(archetype.category) ?? "";
    const image = PLACEHOLDER_IMAGES[archetype.image] ?? { width: 800, height: 800 };
    const mediaCount = between(rng, 1, 3);
    const mediaRows: MediaRow[] = [];
    for (let m = 0; m < mediaCount; m++) {
      mediaRows.push({
        id: seedId("med", index * 4 + m, seed),
        productId,
        url: `/images/placeholders/${archetype.image}.svg`,
        alt: m === 0 ? title : `${title}, view ${m + 1}`,
        width: image.width,
        height: image.height,
        position: m,
      });
    }

    const attributes: ProductAttributeRow[] = [
      { productId, name: "material", value: material },
      { productId, name: "season", value: pick(rng, SEASONS) },
      { productId, name: "origin", value: pick(rng, ORIGINS) },
    ];
    if (archetype.fits) attributes.push({ productId, name: "fit", value: pick(rng, archetype.fits) });
    if (flash) attributes.push({ productId, name: "collection", value: "flash-sale" });

    yield {
      product,
      variants: variantRows,
      prices: priceRows,
      categories: [{ productId, categoryId: category, position: index }],
      media: mediaRows,
      attributes,
    };
  }
}

const DESCRIPTIONS = [
  "Built to be worn hard and washed often.",
  "Cut with a little extra room through the shoulders.",
  "Finished by hand in a small family workshop.",
  "Designed to pair with everything else in the range.",
  "Pre-washed, so it fits the same after the hundredth wash.",
  "A year-round staple that only gets better with age.",
];

function capitalise(text: string): string {
  return text.replace(/(^|\s)\S/g, (c) => c.toUpperCase());
}

function shuffled<T>(rng: () => number, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** A contiguous run of sizes (e.g. S–L), like a real size curve. */
function sizeRange(rng: () => number, sizes: readonly string[]): string[] {
  if (sizes.length <= 2) return [...sizes];
  const length = between(rng, Math.min(3, sizes.length), sizes.length);
  const start = between(rng, 0, sizes.length - length);
  return sizes.slice(start, start + length);
}

/**
 * SKU → on_hand for every seeded variant, for the inventory domain to apply. Most SKUs are
 * well stocked, some low, some sold out; the flash-sale SKU gets `FLASH_SALE.onHand`.
 * Iterate it or pass it to `new Map(...)`.
 */
export function* seedStockPlan(options: SeedOptions = {}): Generator<[sku: string, onHand: number]> {
  const rng = createRng((options.seed ?? 1) ^ 0x5eed);
  for (const item of seedProducts(options)) {
    for (const variant of item.variants) {
      if (variant.sku === FLASH_SALE.sku) {
        yield [variant.sku, FLASH_SALE.onHand];
        continue;
      }
      const roll = rng();
      yield [variant.sku, roll < 0.05 ? 0 : roll < 0.15 ? between(rng, 1, 5) : between(rng, 10, 250)];
    }
  }
}

type SqlValue = string | number | boolean | null | undefined | Record<string, string>;

const TABLES = {
  categories: "categories",
  products: "products",
  variants: "variants",
  prices: "prices",
  product_categories: "product_categories",
  media: "media",
  product_attributes: "product_attributes",
} as const;

/** camelCase drizzle keys → snake_case SQL columns (the schema's naming convention). */
export function columnName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function literal(value: SqlValue): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot seed non-finite number ${value}`);
    return String(value);
  }
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return `'${text.replaceAll("'", "''")}'`;
}

/** D1 caps one SQL statement at 100 KB; stay well below it. */
const MAX_STATEMENT_CHARS = 60_000;

/**
 * Multi-row `INSERT … ON CONFLICT DO NOTHING` statements, split to stay under D1's statement
 * size limit. Re-seeding never duplicates and never clobbers rows edited through the admin
 * API since the last seed.
 */
export function insertStatements(table: keyof typeof TABLES, rows: readonly object[]): string[] {
  const first = rows[0];
  if (!first) return [];
  const keys = Object.keys(first);
  const head = `INSERT INTO ${TABLES[table]} (${keys.map(columnName).join(",")}) VALUES\n`;
  const statements: string[] = [];
  let values: string[] = [];
  let size = head.length;
  const flush = () => statements.push(`${head}${values.join(",\n")}\nON CONFLICT DO NOTHING;`);
  for (const row of rows) {
    const record = row as Record<string, SqlValue>;
    const tuple = `(${keys.map((key) => literal(record[key])).join(",")})`;
    if (values.length > 0 && size + tuple.length > MAX_STATEMENT_CHARS) {
      flush();
      values = [];
      size = head.length;
    }
    values.push(tuple);
    size += tuple.length + 2;
  }
  flush();
  return statements;
}

export interface SeedSqlOptions extends SeedOptions {
  /** Products per group of INSERT statements. Default 50. */
  chunk?: number;
}

/**
 * The seed as SQL, one statement per yielded string: categories first, then for each chunk
 * of products one or more INSERTs per table in foreign-key order. Streams, so callers can
 * write or execute 100 000+ products without holding the catalog in memory.
 */
export function* seedSql(options: SeedSqlOptions = {}): Generator<string> {
  const chunk = options.chunk ?? 50;
  yield* insertStatements("categories", seedCategories());
  let batch: SeedProduct[] = [];
  function* flush() {
    yield* insertStatements(
      "products",
      batch.map((p) => p.product),
    );
    yield* insertStatements(
      "variants",
      batch.flatMap((p) => p.variants),
    );
    yield* insertStatements(
      "prices",
      batch.flatMap((p) => p.prices),
    );
    yield* insertStatements(
      "product_categories",
      batch.flatMap((p) => p.categories),
    );
    yield* insertStatements(
      "media",
      batch.flatMap((p) => p.media),
    );
    yield* insertStatements(
      "product_attributes",
      batch.flatMap((p) => p.attributes),
    );
    batch = [];
  }
  for (const item of seedProducts(options)) {
    batch.push(item);
    if (batch.length >= chunk) yield* flush();
  }
  if (batch.length > 0) yield* flush();
}
