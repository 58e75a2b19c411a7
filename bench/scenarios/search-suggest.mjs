import { cycle, defineScenario } from "../lib/scenario.mjs";
import { ensureSearchIndex, suggestPaths } from "../lib/search-queries.mjs";

export default defineScenario({
  name: "search-suggest",
  readsOnly: true,
  description: "GET /api/search/suggest: 2–6 typed letters of common words (KV prefix shards + Cache API)",
  setup: (ctx) => ensureSearchIndex(ctx),
  requests: (ctx) => {
    const path = cycle(suggestPaths(ctx));
    return () => ({ path: path() });
  },
  summarize: (_ctx, state) => ({
    indexed: state.indexed,
    rebuild_s: state.rebuild_s,
    replicas_s: state.replicas_s,
  }),
});
