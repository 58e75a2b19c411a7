import { cycle, defineScenario } from "../lib/scenario.mjs";
import { coldSearchPaths, ensureSearchIndex } from "../lib/search-queries.mjs";

export default defineScenario({
  name: "search-cold",
  readsOnly: true,
  description:
    "GET /api/search with searches that never repeat in a run (word or browse × category × sort × availability): every request misses the result cache",
  setup: (ctx) => ensureSearchIndex(ctx),
  requests: (ctx) => {
    const path = cycle(coldSearchPaths(ctx));
    return () => ({ path: path() });
  },
  summarize: (ctx) => ({ distinct_searches: coldSearchPaths(ctx).length }),
});
