import type { FC } from "hono/jsx";
import { type CardProduct, ProductCard } from "../components";

export const SORT_LABELS = {
  newest: "Newest",
  popular: "Most popular",
  price_asc: "Price: low to high",
  price_desc: "Price: high to low",
  title: "Name A–Z",
} as const;
export type SortKey = keyof typeof SORT_LABELS;

export interface CategoryFilters {
  brand: string;
  min: string;
  max: string;
  sort: SortKey;
}

export interface CategoryProps {
  category: { slug: string; name: string; description: string; children: { slug: string; name: string }[] };
  products: CardProduct[];
  brands: string[];
  filters: CategoryFilters;
  currency: string;
  nextHref: string | null;
  firstHref: string | null;
  filterError?: string;
}

/** Category listing: filters and sort as a plain GET form (works without JS), cursor pagination. */
export const CategoryPage: FC<CategoryProps> = ({
  category,
  products,
  brands,
  filters,
  currency,
  nextHref,
  firstHref,
  filterError,
}) => (
  <>
    <nav aria-label="Breadcrumb">
      <a href="/">Home</a> › <span aria-current="page">{category.name}</span>
    </nav>
    <h1>{category.name}</h1>
    {category.description ? <p>{category.description}</p> : null}
    {category.children.length ? (
      <ul>
        {category.children.map((child) => (
          <li>
            <a href={`/c/${child.slug}`}>{child.name}</a>
          </li>
        ))}
      </ul>
    ) : null}
    <div class="listing">
      <form class="filters" method="get" action={`/c/${category.slug}`} aria-labelledby="filters-heading">
        <h2 id="filters-heading">Filter and sort</h2>
        <div class="field">
          <label for="filter-brand">Brand</label>
          <select id="filter-brand" name="brand">
            <option value="">All brands</option>
            {brands.map((brand) => (
              <option value={brand} selected={brand === filters.brand}>
                {brand}
              </option>
            ))}
          </select>
        </div>
        <fieldset>
          <legend>Price ({currency})</legend>
          <div class="filter-row">
            <div class="field">
              <label for="filter-min">Min</label>
              <input id="filter-min" name="min" inputmode="decimal" value={filters.min} />
            </div>
            <div class="field">
              <label for="filter-max">Max</label>
              <input id="filter-max" name="max" inputmode="decimal" value={filters.max} />
            </div>
          </div>
        </fieldset>
        <div class="field">
          <label for="filter-sort">Sort by</label>
          <select id="filter-sort" name="sort">
            {Object.entries(SORT_LABELS).map(([value, label]) => (
              <option value={value} selected={value === filters.sort}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {filterError ? (
          <p class="error-message" role="alert">
            {filterError}
          </p>
        ) : null}
        <button type="submit">Apply</button> <a href={`/c/${category.slug}`}>Clear</a>
      </form>
      <section aria-label="Products">
        <p role="status">
          {products.length ? `Showing ${products.length} products` : "No products match these filters."}
        </p>
        <ul class="product-grid">
          {products.map((product, i) => (
            <ProductCard product={product} eager={i < 2} />
          ))}
        </ul>
        <nav class="pagination" aria-label="Pagination">
          {firstHref ? <a href={firstHref}>First page</a> : <span />}
          {nextHref ? (
            <a href={nextHref} rel="next">
              Next page
            </a>
          ) : null}
        </nav>
      </section>
    </div>
  </>
);
