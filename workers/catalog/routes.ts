import { createRoute } from "@hono/zod-openapi";
import { problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { catalogResponse, listingCacheKey, productCacheKey, readCached, storeCached } from "./response-cache";
import {
  CategoryTreeSchema,
  CurrencyQuerySchema,
  ProductDetailSchema,
  ProductListQuerySchema,
  ProductListSchema,
  SLUG_PATTERN,
  SlugParamSchema,
} from "./schemas";
import { getCategoryTree, getProduct, loadListingPage, locateListing } from "./service";

const cachedHeaders = {
  ETag: { schema: { type: "string" as const }, description: "Validator for If-None-Match" },
  "Cache-Control": { schema: { type: "string" as const } },
};

const listProductsRoute = createRoute({
  method: "get",
  path: "/products",
  tags: ["Catalog"],
  summary: "List products with filters, sorts and cursor pagination",
  description:
    "Only products sold in `currency` are listed, priced at their cheapest variant; `category` includes descendants. Served from KV listing pages, D1 on a miss; " +
    "while D1 is unavailable, from the query's last good page with the `Popcart-Degraded: d1` header (503 `database_unavailable` when there is none).",
  request: { query: ProductListQuerySchema },
  responses: {
    200: {
      description: "A page of products",
      headers: cachedHeaders,
      content: { "application/json": { schema: ProductListSchema } },
    },
    304: { description: "Not modified (If-None-Match)" },
    ...problemResponses(404, 422, 503),
  },
});

const productRoute = createRoute({
  method: "get",
  path: "/products/{slug}",
  tags: ["Catalog"],
  summary: "A product by slug, priced in `currency`",
  request: { params: SlugParamSchema, query: CurrencyQuerySchema },
  responses: {
    200: {
      description: "The product",
      headers: cachedHeaders,
      content: { "application/json": { schema: ProductDetailSchema } },
    },
    304: { description: "Not modified (If-None-Match)" },
    ...problemResponses(404, 422, 503),
  },
});

const categoriesRoute = createRoute({
  method: "get",
  path: "/categories",
  tags: ["Catalog"],
  summary: "The category tree",
  responses: {
    200: {
      description: "Root categories with nested children",
      headers: cachedHeaders,
      content: { "application/json": { schema: CategoryTreeSchema } },
    },
    304: { description: "Not modified (If-None-Match)" },
    ...problemResponses(503),
  },
});

const productNotFound = (slug: string) =>
  problems.notFound("Product", "product_not_found", `No published product has the slug '${slug}'.`);

/**
 * Public catalog reads, mounted at `/api`: Cache API → KV projection → D1, and the last good
 * copy (with `Popcart-Degraded: d1`) when D1 fails or is slow.
 */
export const catalogRoutes = createRouter()
  .openapi(listProductsRoute, async (c) => {
    const query = c.req.valid("query");
    const location = await locateListing(c.env, query);
    const cacheKey = listingCacheKey(location.key);
    const ifNoneMatch = c.req.header("if-none-match");
    const hit = await readCached(cacheKey);
    if (hit) return catalogResponse(hit.body, hit.etag, ifNoneMatch, "cache");
    const { page, source } = await loadListingPage(c.env, query, location);
    const entry = { body: JSON.stringify(page.body), etag: page.etag };
    // A last-good page may be older than this generation: never cache it under the live key.
    if (source !== "last-good") c.executionCtx.waitUntil(storeCached(c.env, cacheKey, entry));
    return catalogResponse(entry.body, entry.etag, ifNoneMatch, source);
  })
  .openapi(productRoute, async (c) => {
    const { slug } = c.req.valid("param");
    const { currency } = c.req.valid("query");
    // No product can have a malformed slug; answering early also keeps KV keys bounded.
    if (!SLUG_PATTERN.test(slug)) throw productNotFound(slug);
    const cacheKey = productCacheKey(slug, currency);
    const ifNoneMatch = c.req.header("if-none-match");
    const hit = await readCached(cacheKey);
    if (hit) return catalogResponse(hit.body, hit.etag, ifNoneMatch, "cache");
    const found = await getProduct(c.env, slug, currency);
    if (!found) throw productNotFound(slug);
    c.get("log").fields.product_revision = found.revision;
    const entry = { body: JSON.stringify(found.product), etag: found.etag };
    if (found.source !== "last-good") c.executionCtx.waitUntil(storeCached(c.env, cacheKey, entry));
    return catalogResponse(entry.body, entry.etag, ifNoneMatch, found.source);
  })
  .openapi(categoriesRoute, async (c) => {
    const { doc, source } = await getCategoryTree(c.env);
    return catalogResponse(
      JSON.stringify({ categories: doc.categories }),
      doc.etag,
      c.req.header("if-none-match"),
      source,
    );
  });
