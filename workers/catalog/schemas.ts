import { z } from "@hono/zod-openapi";
import { AmountSchema, CurrencySchema, DEFAULT_CURRENCY, MoneySchema } from "../lib/money";
import { orNull, PaginationQuery } from "../lib/schemas";

export const PRODUCT_SORTS = ["newest", "price_asc", "price_desc", "title", "popular"] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** Product and category slugs: lowercase ASCII words joined by single hyphens, at most 120 characters. */
export const SLUG_PATTERN = /^(?=.{1,120}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;

const Slug = z.string().min(1).max(120).regex(SLUG_PATTERN, "lowercase letters, digits and single hyphens");

export const ProductListQuerySchema = PaginationQuery.extend({
  category: Slug.optional().openapi({ description: "Category slug; includes its descendants" }),
  brand: z.string().min(1).max(120).optional(),
  currency: CurrencySchema.default(DEFAULT_CURRENCY),
  min_price: z.coerce.number().pipe(AmountSchema).optional().openapi({ description: "Minor units" }),
  max_price: z.coerce.number().pipe(AmountSchema).optional().openapi({ description: "Minor units" }),
  sort: z.enum(PRODUCT_SORTS).default("newest"),
});
export type ProductListQuery = z.infer<typeof ProductListQuerySchema>;

export const SlugParamSchema = z.object({
  slug: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: "slug", in: "path" }, example: "linen-shirt" }),
});
export const CurrencyQuerySchema = z.object({ currency: CurrencySchema.default(DEFAULT_CURRENCY) });

export const MediaSchema = z
  .object({
    url: z.string(),
    alt: z.string(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    position: z.number().int(),
  })
  .openapi("Media");

export const CategoryRefSchema = z
  .object({ id: z.string(), slug: z.string(), name: z.string() })
  .openapi("CategoryRef");

export const ProductSummarySchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    title: z.string(),
    brand: z.string(),
    price: MoneySchema.openapi({ description: "Lowest active variant price in the requested currency" }),
    compare_at_price: orNull(MoneySchema),
    image: MediaSchema.pick({ url: true, alt: true }).nullable(),
    created_at: z.string(),
  })
  .openapi("ProductSummary");
export type ProductSummary = z.infer<typeof ProductSummarySchema>;

export const ProductListSchema = z
  .object({ items: z.array(ProductSummarySchema), next_cursor: z.string().nullable() })
  .openapi("ProductList");
export type ProductList = z.infer<typeof ProductListSchema>;

export const VariantSchema = z
  .object({
    id: z.string(),
    sku: z.string(),
    title: z.string(),
    options: z.record(z.string(), z.string()),
    weight_grams: z.number().int().nullable(),
    barcode: z.string().nullable(),
    price: orNull(MoneySchema).openapi({ description: "null when not sold in the requested currency" }),
    compare_at_price: orNull(MoneySchema),
  })
  .openapi("Variant");

export const ProductDetailSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    title: z.string(),
    description: z.string(),
    brand: z.string(),
    revision: z.number().int(),
    currency: CurrencySchema,
    options: z
      .array(z.object({ name: z.string(), values: z.array(z.string()) }))
      .openapi({ description: "Option names with their values across variants, e.g. size / colour" }),
    variants: z.array(VariantSchema),
    media: z.array(MediaSchema),
    categories: z.array(CategoryRefSchema),
    attributes: z.array(z.object({ name: z.string(), value: z.string() })),
    updated_at: z.string(),
  })
  .openapi("ProductDetail");
export type ProductDetail = z.infer<typeof ProductDetailSchema>;

export interface CategoryNode {
  id: string;
  slug: string;
  name: string;
  description: string;
  position: number;
  children: CategoryNode[];
}
export const CategoryNodeSchema: z.ZodType<CategoryNode> = z
  .lazy(() =>
    z.object({
      id: z.string(),
      slug: z.string(),
      name: z.string(),
      description: z.string(),
      position: z.number().int(),
      children: z.array(CategoryNodeSchema),
    }),
  )
  .openapi("CategoryNode");
export const CategoryTreeSchema = z
  .object({ categories: z.array(CategoryNodeSchema) })
  .openapi("CategoryTree");

// Admin request bodies: strict objects so unknown fields are refused by name.

const PriceInput = z
  .strictObject({
    currency: CurrencySchema,
    amount: AmountSchema,
    compare_at_amount: AmountSchema.nullable().optional(),
  })
  .refine((price) => price.compare_at_amount == null || price.compare_at_amount > price.amount, {
    path: ["compare_at_amount"],
    message: "must be greater than amount",
  });
const uniqueCurrencies = (prices: { currency: string }[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  prices.forEach((price, index) => {
    if (seen.has(price.currency)) {
      ctx.addIssue({ code: "custom", path: [index, "currency"], message: "duplicate currency" });
    }
    seen.add(price.currency);
  });
};
const PricesInput = z.array(PriceInput).max(10).superRefine(uniqueCurrencies);

const Sku = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' or '-'");
const OptionValues = z
  .record(z.string().min(1).max(40), z.string().min(1).max(80))
  .refine((options) => Object.keys(options).length <= 5, "at most 5 options");

export const VariantCreateSchema = z
  .strictObject({
    sku: Sku,
    title: z.string().max(200).default(""),
    options: OptionValues.default({}),
    weight_grams: z.number().int().min(0).max(1_000_000).nullable().optional(),
    barcode: z.string().min(1).max(64).nullable().optional(),
    position: z.number().int().min(0).max(10_000).optional(),
    prices: PricesInput.default([]),
  })
  .openapi("VariantCreate");
export type VariantCreate = z.infer<typeof VariantCreateSchema>;

export const VariantUpdateSchema = z
  .strictObject({
    sku: Sku.optional(),
    title: z.string().max(200).optional(),
    options: OptionValues.optional(),
    weight_grams: z.number().int().min(0).max(1_000_000).nullable().optional(),
    barcode: z.string().min(1).max(64).nullable().optional(),
    position: z.number().int().min(0).max(10_000).optional(),
    status: z.enum(["active", "archived"]).optional(),
    prices: PricesInput.optional().openapi({
      description:
        "Replaces the price of each listed currency (omitting compare_at_amount clears it); currencies not listed keep theirs",
    }),
  })
  .openapi("VariantUpdate");
export type VariantUpdate = z.infer<typeof VariantUpdateSchema>;

const MediaInput = z.strictObject({
  url: z
    .string()
    .max(2048)
    .regex(/^(https:\/\/|\/)/, "an https:// URL or a site-relative path"),
  alt: z.string().max(300).default(""),
  width: z.number().int().min(1).max(20_000).nullable().optional(),
  height: z.number().int().min(1).max(20_000).nullable().optional(),
});
const AttributeInput = z.strictObject({
  name: z.string().min(1).max(60),
  value: z.string().min(1).max(200),
});
const CategoryIds = z
  .array(z.string().min(1).max(64))
  .max(20)
  .refine((ids) => new Set(ids).size === ids.length, "duplicate category id");

const productFields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().max(20_000),
  brand: z.string().max(120),
  status: z.enum(["draft", "active", "archived"]),
  featured: z.boolean(),
  popularity: z.number().int().min(0).max(1_000_000_000),
  tax_class: z
    .string()
    .regex(/^[a-z0-9_]{1,32}$/, "1–32 lower-case letters, digits or '_'")
    .nullable()
    .openapi({ description: "Tax class for rate lookup (e.g. reduced); null: the standard rate" }),
  category_ids: CategoryIds,
  media: z.array(MediaInput).max(30),
  attributes: z
    .array(AttributeInput)
    .max(100)
    .superRefine((attributes, ctx) => {
      const seen = new Set<string>();
      attributes.forEach((attribute, index) => {
        const key = `${attribute.name}\u0000${attribute.value}`;
        if (seen.has(key)) ctx.addIssue({ code: "custom", path: [index], message: "duplicate attribute" });
        seen.add(key);
      });
    }),
};

export const ProductCreateSchema = z
  .strictObject({
    slug: Slug,
    title: productFields.title,
    description: productFields.description.default(""),
    brand: productFields.brand.default(""),
    status: productFields.status.default("draft"),
    featured: productFields.featured.default(false),
    popularity: productFields.popularity.default(0),
    tax_class: productFields.tax_class.default(null),
    category_ids: productFields.category_ids.default([]),
    media: productFields.media.default([]),
    attributes: productFields.attributes.default([]),
    variants: z.array(VariantCreateSchema).max(50).default([]),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.variants.forEach((variant, index) => {
      if (seen.has(variant.sku)) {
        ctx.addIssue({ code: "custom", path: ["variants", index, "sku"], message: "duplicate sku" });
      }
      seen.add(variant.sku);
    });
  })
  .openapi("ProductCreate");
export type ProductCreate = z.infer<typeof ProductCreateSchema>;

export const ProductUpdateSchema = z
  .strictObject({
    slug: Slug.optional(),
    title: productFields.title.optional(),
    description: productFields.description.optional(),
    brand: productFields.brand.optional(),
    status: productFields.status.optional(),
    featured: productFields.featured.optional(),
    popularity: productFields.popularity.optional(),
    tax_class: productFields.tax_class.optional(),
    category_ids: productFields.category_ids.optional().openapi({ description: "Replaces the links" }),
    media: productFields.media.optional().openapi({ description: "Replaces the media list" }),
    attributes: productFields.attributes.optional().openapi({ description: "Replaces the attributes" }),
  })
  .openapi("ProductUpdate");
export type ProductUpdate = z.infer<typeof ProductUpdateSchema>;

export const CategoryCreateSchema = z
  .strictObject({
    slug: Slug,
    name: z.string().trim().min(1).max(120),
    description: z.string().max(2000).default(""),
    parent_id: z.string().min(1).max(64).nullable().default(null),
    position: z.number().int().min(0).max(10_000).default(0),
  })
  .openapi("CategoryCreate");
export type CategoryCreate = z.infer<typeof CategoryCreateSchema>;

export const IdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

export const AdminProductListQuerySchema = PaginationQuery.extend({
  status: z.enum(["draft", "active", "archived"]).optional(),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: "A title or slug fragment, or a variant's exact SKU" }),
});

const AdminPriceSchema = z.object({
  currency: CurrencySchema,
  amount: z.number().int(),
  compare_at_amount: z.number().int().nullable(),
});
export const AdminVariantSchema = z
  .object({
    id: z.string(),
    product_id: z.string(),
    sku: z.string(),
    title: z.string(),
    options: z.record(z.string(), z.string()),
    weight_grams: z.number().int().nullable(),
    barcode: z.string().nullable(),
    position: z.number().int(),
    status: z.enum(["active", "archived"]),
    prices: z.array(AdminPriceSchema),
  })
  .openapi("AdminVariant");
export type AdminVariant = z.infer<typeof AdminVariantSchema>;

export const AdminProductSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    title: z.string(),
    description: z.string(),
    brand: z.string(),
    status: z.enum(["draft", "active", "archived"]),
    featured: z.boolean(),
    popularity: z.number().int(),
    revision: z.number().int(),
    tax_class: z.string().nullable(),
    category_ids: z.array(z.string()),
    media: z.array(MediaSchema),
    attributes: z.array(z.object({ name: z.string(), value: z.string() })),
    variants: z.array(AdminVariantSchema),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("AdminProduct");
export type AdminProduct = z.infer<typeof AdminProductSchema>;

export const AdminProductSummarySchema = AdminProductSchema.pick({
  id: true,
  slug: true,
  title: true,
  brand: true,
  status: true,
  featured: true,
  popularity: true,
  revision: true,
  created_at: true,
  updated_at: true,
}).openapi("AdminProductSummary");
export type AdminProductSummary = z.infer<typeof AdminProductSummarySchema>;

export const AdminProductListSchema = z
  .object({ items: z.array(AdminProductSummarySchema), next_cursor: z.string().nullable() })
  .openapi("AdminProductList");

export const AdminCategorySchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    description: z.string(),
    parent_id: z.string().nullable(),
    position: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("AdminCategory");
export type AdminCategory = z.infer<typeof AdminCategorySchema>;

export const AdminCategoryListSchema = z
  .object({ items: z.array(AdminCategorySchema) })
  .openapi("AdminCategoryList");
