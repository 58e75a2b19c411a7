import { cycle, defineScenario } from "../lib/scenario.mjs";

export default defineScenario({
  name: "category-listing",
  description: "GET /api/products?category={slug}: first listing page of every category",
  requests: ({ catalog }) => {
    const category = cycle(catalog.categorySlugs);
    return () => ({ path: `/api/products?category=${category()}&limit=24` });
  },
});
