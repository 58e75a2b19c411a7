import { cycle, defineScenario, warmAll } from "../lib/scenario.mjs";

const path = (category) => `/api/products?category=${category}&limit=24`;

export default defineScenario({
  name: "category-listing",
  readsOnly: true,
  description: "GET /api/products?category={slug}: first listing page of every category (warm)",
  setup: (ctx) => warmAll(ctx, ctx.catalog.categorySlugs.map(path)),
  requests: ({ catalog }) => {
    const category = cycle(catalog.categorySlugs);
    return () => ({ path: path(category()) });
  },
});
