import { cycle, defineScenario } from "../lib/scenario.mjs";

export default defineScenario({
  name: "product-by-slug",
  description: "GET /api/products/{slug} across every active product, rotating USD/EUR/GBP",
  requests: ({ catalog }) => {
    const slug = cycle(catalog.productSlugs);
    const currency = cycle(["USD", "EUR", "GBP"]);
    return () => ({ path: `/api/products/${slug()}?currency=${currency()}` });
  },
});
