import { defineScenario, warmAll } from "../lib/scenario.mjs";

const CURRENCIES = ["USD", "EUR", "GBP"];

export default defineScenario({
  name: "product-by-slug",
  readsOnly: true,
  description: "GET /api/products/{slug} across every active product, rotating USD/EUR/GBP (warm KV)",
  // 50 connections, like the ceiling it is compared with.
  connections: 50,
  setup: (ctx) =>
    warmAll(
      ctx,
      ctx.catalog.productSlugs.flatMap((slug) =>
        CURRENCIES.map((c) => `/api/products/${slug}?currency=${c}`),
      ),
    ),
  requests: ({ catalog }) => {
    const slugs = catalog.productSlugs;
    let i = 0;
    return () => {
      // Every slug in one currency, then the next currency: all pairs, for any catalog size.
      const slug = slugs[i % slugs.length];
      const currency = CURRENCIES[Math.floor(i / slugs.length) % CURRENCIES.length];
      i++;
      return { path: `/api/products/${slug}?currency=${currency}` };
    };
  },
});
