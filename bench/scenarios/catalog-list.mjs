import { defineScenario, warmAll } from "../lib/scenario.mjs";

const CURRENCIES = ["USD", "EUR", "GBP"];
const path = (currency) => `/api/products?limit=20&currency=${currency}`;

// The storefront's first page: the most requested listing there is. 50 connections, like
// the ceiling it is compared with.
export default defineScenario({
  name: "catalog-list",
  readsOnly: true,
  description: "GET /api/products?limit=20: the first listing page, rotating USD/EUR/GBP (warm)",
  connections: 50,
  setup: (ctx) => warmAll(ctx, CURRENCIES.map(path)),
  requests: () => {
    let i = 0;
    return () => ({ path: path(CURRENCIES[i++ % CURRENCIES.length]) });
  },
});
