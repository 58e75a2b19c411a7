import type { Child, FC } from "hono/jsx";
import type { Currency } from "../lib/money";
import { ASSETS } from "./asset-manifest.gen";
import { REGIONS } from "./preferences";

export interface LayoutProps {
  title: string;
  description?: string;
  currency: Currency;
  /** Current path + query, so the region switcher can come back here. */
  path: string;
  /** Page-specific client modules (keys of the asset manifest). */
  scripts?: (keyof typeof ASSETS)[];
  categories?: { slug: string; name: string }[];
  searchQuery?: string;
  children?: Child;
}

/** The HTML shell every storefront page shares: header (search, region, cart), nav, footer. */
export const Layout: FC<LayoutProps> = ({
  title,
  description,
  currency,
  path,
  scripts = [],
  categories = [],
  searchQuery = "",
  children,
}) => (
  <html lang="en" data-currency={currency}>
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Popcart`}</title>
      {description ? <meta name="description" content={description} /> : null}
      <link rel="stylesheet" href={ASSETS["css/site.css"]} />
      <link rel="modulepreload" href={ASSETS["js/api.js"]} />
      <script type="module" src={ASSETS["js/site.js"]} />
      {scripts.map((name) => (
        <script type="module" src={ASSETS[name]} />
      ))}
    </head>
    <body>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <a class="logo" href="/">
          Popcart
        </a>
        <search>
          <form class="search-form" action="/search" method="get" data-search>
            <label class="visually-hidden" for="site-search">
              Search products
            </label>
            <input
              id="site-search"
              name="q"
              type="search"
              value={searchQuery}
              placeholder="Search products"
              autocomplete="off"
              role="combobox"
              aria-autocomplete="list"
              aria-expanded="false"
              aria-controls="search-suggestions"
            />
            <div id="search-suggestions" class="suggestions" role="listbox" aria-label="Suggestions" />
            <button type="submit">Search</button>
          </form>
        </search>
        <div class="header-tools">
          <form action="/preferences/currency" method="post">
            <input type="hidden" name="return_to" value={path} />
            <label class="visually-hidden" for="region">
              Region and currency
            </label>
            <select id="region" name="currency" data-autosubmit>
              {REGIONS.map((r) => (
                <option value={r.currency} selected={r.currency === currency}>
                  {r.label}
                </option>
              ))}
            </select>
            <noscript>
              <button type="submit" class="secondary">
                Change
              </button>
            </noscript>
          </form>
          <a class="button" href="/cart">
            Cart (<span data-cart-count>0</span>)
          </a>
        </div>
      </header>
      {categories.length ? (
        <nav aria-label="Categories">
          <ul class="nav-categories">
            {categories.map((cat) => (
              <li>
                <a href={`/c/${cat.slug}`}>{cat.name}</a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <main id="main">{children}</main>
      <footer class="site-footer">
        <p>
          Popcart reference storefront · Prices in {currency} · <a href="/docs">API reference</a>
        </p>
      </footer>
    </body>
  </html>
);
