import { cycle, defineScenario } from "../lib/scenario.mjs";
import { ensureSearchIndex, searchPaths } from "../lib/search-queries.mjs";

export default defineScenario({
  name: "search",
  description:
    "GET /api/search: a repeating mix of words, pairs, prefixes, typos, facet filters, price sorts and browsing, with facet counts (repeats hit the result cache, as popular searches do)",
  setup: (ctx) => ensureSearchIndex(ctx),
  requests: (ctx) => {
    const path = cycle(searchPaths(ctx));
    return () => ({ path: path() });
  },
  summarize: (_ctx, state) => ({ indexed: state.indexed, rebuild_s: state.rebuild_s }),
});
