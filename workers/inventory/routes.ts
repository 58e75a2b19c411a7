import { createRoute } from "@hono/zod-openapi";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { AvailabilityQuery, AvailabilitySchema } from "./schemas";
import { getAvailability } from "./service";

/** Browsers and CDNs may reuse an answer this long; the snapshot itself is ≤ 1 s behind the objects. */
const AVAILABILITY_MAX_AGE_SECONDS = 2;

const availability = createRoute({
  method: "get",
  path: "/api/availability",
  tags: ["Store"],
  summary: "In stock / low (with count) / sold out per SKU, from the published snapshot",
  description:
    "Served from the availability snapshot each inventory object publishes to KV at most once a second; never from the objects themselves. Staleness: ≤ 1 s publish throttle + KV propagation + the response's max-age.",
  request: { query: AvailabilityQuery },
  responses: {
    200: {
      description: "Availability per SKU",
      content: { "application/json": { schema: AvailabilitySchema } },
    },
    ...problemResponses(422),
  },
});

/** Public inventory reads: `GET /api/availability`. */
export const inventoryRoutes = createRouter().openapi(availability, async (c) => {
  const { skus } = c.req.valid("query");
  const items = await getAvailability(c.env, skus);
  c.header("cache-control", `public, max-age=${AVAILABILITY_MAX_AGE_SECONDS}`);
  return c.json({ items, stale_after_seconds: AVAILABILITY_MAX_AGE_SECONDS }, 200);
});
