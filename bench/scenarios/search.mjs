import { defineScenario, zipf } from "../lib/scenario.mjs";
import { ensureSearchIndex, searchPaths } from "../lib/search-queries.mjs";

export default defineScenario({
  name: "search",
  readsOnly: true,
  description:
    "GET /api/search: words, pairs, prefixes, typos, facet filters, price sorts and browsing, drawn with Zipf popularity (popular searches repeat and hit the result cache; the long tail misses)",
  setup: (ctx) => ensureSearchIndex(ctx),
  requests: (ctx) => {
    const path = zipf(searchPaths(ctx));
    return () => ({ path: path() });
  },
  summarize: (_ctx, state) => ({
    indexed: state.indexed,
    rebuild_s: state.rebuild_s,
    replicas_s: state.replicas_s,
  }),
});
