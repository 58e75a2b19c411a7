import { createRoute } from "@hono/zod-openapi";
import { requireScope } from "../lib/admin-auth";
import { problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { decodeRebuildCursor, REBUILD_BUDGET_MS, rebuildSearchIndex } from "./indexer";
import { searchReplica, syncReplicas } from "./replicas";
import { cachedSearch } from "./result-cache";
import {
  ReindexQuerySchema,
  ReindexResponseSchema,
  ReplicaSyncResponseSchema,
  SearchQuerySchema,
  SearchResponseSchema,
  SuggestQuerySchema,
  SuggestResponseSchema,
  ZeroResultsQuerySchema,
  ZeroResultsResponseSchema,
} from "./schemas";
import { searchProducts } from "./service";
import { SUGGEST_CACHE_SECONDS, suggest } from "./suggest";
import { recordZeroResult, topZeroResults } from "./zero-results";

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : [...new Set(Array.isArray(value) ? value : [value])];

const search = createRoute({
  method: "get",
  path: "/api/search",
  tags: ["Search"],
  summary: "Full-text product search with facets",
  description:
    "Relevance weighs title over brand, SKU, category, attributes and description, ranks in-stock products first and boosts popular ones. Facets: OR within a facet, AND across facets; each facet's counts apply every other facet's selection. Empty `q` browses the catalog. Pages are cached per data centre until the index changes (`x-search-cache`).",
  request: { query: SearchQuerySchema },
  responses: {
    200: {
      description: "A page of results with facet counts",
      headers: {
        "x-search-cache": {
          description:
            "`hit`: served from this data centre's cache for the current index; `miss`: computed now; `off`: caching disabled",
          schema: { type: "string", enum: ["hit", "miss", "off"] },
        },
      },
      content: { "application/json": { schema: SearchResponseSchema } },
    },
    ...problemResponses(422),
  },
});

const suggestRoute = createRoute({
  method: "get",
  path: "/api/search/suggest",
  tags: ["Search"],
  summary: "Autocomplete: query completions, products and categories",
  description: `Served from a precomputed prefix index in KV (no full-text query per keystroke); prefixes of up to 3 characters are also cached at the edge for ${SUGGEST_CACHE_SECONDS} s. Fewer than 2 letters in the last word → empty lists.`,
  request: { query: SuggestQuerySchema },
  responses: {
    200: { description: "Suggestions", content: { "application/json": { schema: SuggestResponseSchema } } },
    ...problemResponses(422),
  },
});

const zeroResults = createRoute({
  method: "get",
  path: "/admin/api/search/zero-results",
  tags: ["Search admin"],
  summary: "Most frequent searches that found nothing",
  security: [{ adminToken: [] }],
  middleware: [requireScope("catalog:read")] as const,
  request: { query: ZeroResultsQuerySchema },
  responses: {
    200: {
      description: "Top zero-result queries",
      content: { "application/json": { schema: ZeroResultsResponseSchema } },
    },
    ...problemResponses(401, 403, 422),
  },
});

const reindex = createRoute({
  method: "post",
  path: "/admin/api/search/reindex",
  tags: ["Search admin"],
  summary: "Rebuild the search index and autocomplete shards from the catalog, in resumable steps",
  description: `Each call works for about ${REBUILD_BUDGET_MS / 1000} s; repeat with \`?cursor=next_cursor\` until \`done\`. Searches keep working throughout.`,
  security: [{ adminToken: [] }],
  middleware: [requireScope("catalog:write")] as const,
  request: { query: ReindexQuerySchema },
  responses: {
    200: {
      description: "One rebuild step",
      content: { "application/json": { schema: ReindexResponseSchema } },
    },
    ...problemResponses(401, 403, 422),
  },
});

const replicaSync = createRoute({
  method: "post",
  path: "/admin/api/search/replicas/sync",
  tags: ["Search admin"],
  summary: "Catch the search replicas up with the index, one step",
  description:
    "Each replica pulls up to 20 000 index changes from D1. Searches are answered from D1 while a replica has a backlog; repeat until `caught_up` (a new deployment or a bulk import otherwise catches up in the background).",
  security: [{ adminToken: [] }],
  middleware: [requireScope("catalog:write")] as const,
  responses: {
    200: {
      description: "Each replica's position after the step",
      content: { "application/json": { schema: ReplicaSyncResponseSchema } },
    },
    ...problemResponses(401, 403),
  },
});

/** Public search and autocomplete, plus the search admin routes. */
export const searchRoutes = createRouter()
  .openapi(search, async (c) => {
    const query = c.req.valid("query");
    const attributes: Record<string, string[]> = {};
    for (const [index, selection] of list(query.attr).entries()) {
      const colon = selection.indexOf(":");
      const name = selection.slice(0, colon).trim().toLowerCase();
      const value = selection.slice(colon + 1).trim();
      if (colon <= 0 || !name || !value) {
        throw problems.validation([{ path: `query.attr.${index}`, message: "Expected name:value" }]);
      }
      attributes[name] = [...(attributes[name] ?? []), value];
    }
    if (query.min_price !== undefined && query.max_price !== undefined && query.min_price > query.max_price) {
      throw problems.validation([{ path: "query.min_price", message: "min_price exceeds max_price" }]);
    }
    const input = {
      q: query.q,
      currency: query.currency,
      sort: query.sort,
      limit: query.limit,
      cursor: query.cursor,
      category: list(query.category),
      brand: list(query.brand),
      price: list(query.price),
      min_price: query.min_price,
      max_price: query.max_price,
      attributes,
      availability: list(query.availability),
    };
    const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
    const result = await cachedSearch(
      c.env,
      input,
      async (generation) => {
        const timing = c.get("timing");
        const replicated = await searchReplica(c.env, input, generation, timing);
        c.get("log").fields.search_engine = replicated ? "replica" : "d1";
        const found = replicated ?? (await searchProducts(c.env.DB, input, timing));
        return {
          result: found,
          total: found.total,
          zero: found.query.mode === "search" && found.total === 0,
        };
      },
      waitUntil,
    );
    if (result.zero && !query.cursor) {
      // Fire-and-forget: the shopper's response never waits on the log write.
      waitUntil(recordZeroResult(c.env.DB, query.q).catch(() => undefined));
    }
    c.get("log").fields.search_total = result.total;
    c.header("cache-control", "no-store");
    c.header("x-search-cache", result.cache);
    return c.json(result.result, 200);
  })
  .openapi(suggestRoute, async (c) => {
    const { q, limit } = c.req.valid("query");
    const { suggestions, cache } = await suggest(c.env, q, limit, (p) => c.executionCtx.waitUntil(p));
    c.header("cache-control", `public, max-age=${SUGGEST_CACHE_SECONDS}`);
    c.header("x-suggest-cache", cache);
    return c.json(suggestions, 200);
  })
  .openapi(zeroResults, async (c) => {
    const { limit, since } = c.req.valid("query");
    const queries = await topZeroResults(c.env.DB, limit, since ? Date.parse(since) : undefined);
    c.header("cache-control", "no-store");
    return c.json({ queries }, 200);
  })
  .openapi(replicaSync, async (c) => {
    const replicas = await syncReplicas(c.env);
    c.header("cache-control", "no-store");
    return c.json({ caught_up: replicas.every((r) => r.caught_up), replicas }, 200);
  })
  .openapi(reindex, async (c) => {
    const { cursor } = c.req.valid("query");
    const decoded = cursor === undefined ? null : decodeRebuildCursor(cursor);
    if (cursor !== undefined && decoded === null) {
      throw problems.validation([{ path: "query.cursor", message: "Not a reindex cursor" }]);
    }
    const result = await rebuildSearchIndex(c.env, { cursor: decoded });
    c.header("cache-control", "no-store");
    return c.json(result, 200);
  });
