import { z } from "@hono/zod-openapi";
import { CurrencySchema, DEFAULT_CURRENCY, MAX_AMOUNT, MoneySchema } from "../lib/money";
import { orNull, PaginationQuery } from "../lib/schemas";
import { AVAILABILITY_VALUES, SEARCH_SORTS } from "./service";

/** Longest accepted query: a longer "query" is pasted junk or an attack, answered 422. */
export const MAX_QUERY_LENGTH = 256;

/** A repeatable query parameter (`?brand=A&brand=B`): OR within the facet. */
const repeatable = (description: string, max = 200) =>
  z
    .union([z.string().min(1).max(max), z.array(z.string().min(1).max(max)).max(50)])
    .optional()
    .openapi({ description: `${description} Repeat the parameter to select several (OR).` });

export const SearchQuerySchema = PaginationQuery.extend({
  q: z.string().max(MAX_QUERY_LENGTH).default("").openapi({
    description:
      "Shopper text. Every word must match (the last one as a prefix); a word one typo away from the vocabulary is also matched as its correction. Empty (or only symbols) browses the whole catalog.",
    example: "blue sneakers",
  }),
  category: repeatable("Category slug (descendants included)."),
  brand: repeatable("Brand name, exact."),
  price: z
    .union([
      z.string().regex(/^\d{1,13}-\d{0,13}$/),
      z.array(z.string().regex(/^\d{1,13}-\d{0,13}$/)).max(20),
    ])
    .optional()
    .openapi({
      description: "Price bucket key from `facets.price[].value` (minor units `min-max`). Repeatable (OR).",
    }),
  min_price: z.coerce.number().int().min(0).max(MAX_AMOUNT).optional().openapi({
    description:
      "Lowest 'from' price in `currency` minor units. The range filters results and every facet count, price buckets included; products without a price in `currency` are left out.",
  }),
  max_price: z.coerce.number().int().min(0).max(MAX_AMOUNT).optional().openapi({
    description: "Highest 'from' price in `currency` minor units (see `min_price`)",
  }),
  attr: repeatable("Attribute selection as `name:value`, e.g. `size:M` or `colour:Blue`.", 250),
  availability: z
    .union([z.enum(AVAILABILITY_VALUES), z.array(z.enum(AVAILABILITY_VALUES)).max(2)])
    .optional()
    .openapi({ description: "`in_stock` and/or `sold_out`" }),
  sort: z.enum(SEARCH_SORTS).default("relevance"),
  currency: CurrencySchema.default(DEFAULT_CURRENCY),
});

const FacetValueSchema = z
  .object({ value: z.string(), label: z.string(), count: z.number().int(), selected: z.boolean() })
  .openapi("SearchFacetValue");

const PriceFacetValueSchema = FacetValueSchema.extend({
  min: MoneySchema,
  max: orNull(MoneySchema),
}).openapi("SearchPriceFacetValue");

export const SearchResponseSchema = z
  .object({
    query: z.object({
      q: z.string(),
      normalised: z.string(),
      mode: z.enum(["search", "browse"]),
      corrections: z.array(z.object({ word: z.string(), candidates: z.array(z.string()) })),
    }),
    results: z.array(
      z.object({
        product_id: z.string(),
        slug: z.string(),
        title: z.string(),
        brand: z.string(),
        thumbnail_url: z.string().nullable(),
        price: orNull(MoneySchema).openapi({
          description: "Lowest variant price in `currency`; null if unpriced",
        }),
        in_stock: z.boolean(),
      }),
    ),
    total: z.number().int(),
    next_cursor: z.string().nullable(),
    facets: z.object({
      category: z.array(FacetValueSchema),
      brand: z.array(FacetValueSchema),
      price: z.array(PriceFacetValueSchema),
      availability: z.array(FacetValueSchema),
      attributes: z.record(z.string(), z.array(FacetValueSchema)),
    }),
  })
  .openapi("SearchResponse");

export const SuggestQuerySchema = z.object({
  q: z
    .string()
    .max(MAX_QUERY_LENGTH)
    .default("")
    .openapi({ description: "What the shopper has typed so far" }),
  limit: z.coerce.number().int().min(1).max(10).default(5),
});

export const SuggestResponseSchema = z
  .object({
    q: z.string(),
    queries: z.array(z.object({ text: z.string() })),
    products: z.array(z.object({ title: z.string(), slug: z.string(), in_stock: z.boolean() })),
    categories: z.array(z.object({ name: z.string(), slug: z.string(), product_count: z.number().int() })),
  })
  .openapi("SearchSuggestions");

export const ZeroResultsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  since: z
    .string()
    .datetime()
    .optional()
    .openapi({ description: "Only queries last seen at or after this instant" }),
});

export const ZeroResultsResponseSchema = z
  .object({
    queries: z.array(
      z.object({
        query: z.string(),
        count: z.number().int(),
        example: z.string(),
        first_seen_at: z.string(),
        last_seen_at: z.string(),
      }),
    ),
  })
  .openapi("SearchZeroResults");

export const ReindexQuerySchema = z.object({
  cursor: z.string().max(512).optional().openapi({ description: "`next_cursor` of the previous step" }),
});

export const ReindexResponseSchema = z
  .object({
    done: z.boolean(),
    next_cursor: z.string().nullable().openapi({ description: "Call again with `?cursor=` until `done`" }),
    indexed: z.number().int(),
    removed: z.number().int(),
    shards: z.number().int(),
    duration_ms: z.number(),
  })
  .openapi("SearchReindexStep");

export const ReplicaSyncResponseSchema = z
  .object({
    caught_up: z.boolean().openapi({ description: "Every replica holds the whole index; repeat until true" }),
    replicas: z.array(
      z.object({
        replica: z.number().int(),
        seq: z.number().int().openapi({ description: "Last change (D1 `search_changes.seq`) applied" }),
        docs: z.number().int(),
        caught_up: z.boolean(),
        applied: z.number().int().openapi({ description: "Changes applied by this step" }),
      }),
    ),
  })
  .openapi("SearchReplicaSyncStep");
