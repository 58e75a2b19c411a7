import type { FC } from "hono/jsx";

/** Search results shell; results and facets come from /api/search. */
export const SearchPage: FC<{ query: string }> = ({ query }) => (
  <section data-search-results aria-labelledby="search-heading">
    <h1 id="search-heading">{query ? `Search: ${query}` : "Search"}</h1>
    <p role="status" data-search-status>
      {query ? "Searching…" : "Type what you're looking for in the search box."}
    </p>
    <p class="error-message" role="alert" data-search-error />
    <div class="listing">
      <nav aria-label="Refine results" data-search-facets />
      <ul class="product-grid" data-search-list />
    </div>
    <nav class="pagination" aria-label="Pagination" data-search-next />
  </section>
);
