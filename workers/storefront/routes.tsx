import type { Context } from "hono";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../lib/env";
import { describeError, log } from "../lib/logging";
import { ApiError } from "../lib/problem";
import { sameOriginForm, sameOriginPath } from "../lib/same-origin";
import { regionConfig } from "../regions/config";
import { categoryTree, findCategory, listing, parsePrice, productBySlug } from "./catalog";
import { Layout, type LayoutProps } from "./layout";
import { noStore, pageCache } from "./page-cache";
import { CartPage } from "./pages/cart";
import { CategoryPage, SORT_LABELS, type SortKey } from "./pages/category";
import { CheckoutPage } from "./pages/checkout";
import { HomePage } from "./pages/home";
import { ErrorPage, NotFoundPage } from "./pages/not-found";
import { OrderPage } from "./pages/order";
import { ProductPage } from "./pages/product";
import { SearchPage } from "./pages/search";
import { rememberCurrency, shopperCurrency } from "./preferences";
import { saleWindows } from "./sale";

type PageContext = Context<AppEnv>;
type ShellProps = Omit<LayoutProps, "currency" | "path" | "categories">;

/** Renders a full HTML document inside the shared layout (with the top-level category nav). */
async function page(c: PageContext, props: ShellProps, status: ContentfulStatusCode = 200) {
  const url = new URL(c.req.url);
  const categories = await categoryTree(c.env).catch(() => []);
  const html = (
    <Layout
      {...props}
      currency={shopperCurrency(c)}
      path={`${url.pathname}${url.search}`}
      categories={categories}
    />
  );
  return c.html(`<!doctype html>${await html.toString()}`, status);
}

const notFound = async (c: PageContext, what: string) => {
  const res = await page(c, { title: "Not found", children: <NotFoundPage what={what} /> }, 404);
  res.headers.set("cache-control", "public, max-age=30");
  return res;
};

const isSort = (value: string | undefined): value is SortKey => value !== undefined && value in SORT_LABELS;

/**
 * The reference storefront: server-rendered, cacheable catalog pages plus the shells of the
 * client-side cart, checkout and order pages. Mounted at `/` with explicit paths only, so
 * it never shadows /api, /admin, /webhooks, /health, /docs or /openapi.json.
 */
export const storefrontRoutes = new Hono<AppEnv>()
  .get("/", pageCache(), async (c) => {
    const currency = shopperCurrency(c);
    const [tree, featured] = await Promise.all([
      categoryTree(c.env),
      listing(c.env, { currency, sort: "popular", limit: 8 }),
    ]);
    return page(c, {
      title: "Home",
      description: "Popcart demo shop",
      children: <HomePage featured={featured.items} categories={tree} />,
    });
  })
  .get("/c/:slug", pageCache(), async (c) => {
    const currency = shopperCurrency(c);
    const category = findCategory(await categoryTree(c.env), c.req.param("slug"));
    if (!category) return notFound(c, "category");
    const q = c.req.query();
    const sort = isSort(q.sort) ? q.sort : "newest";
    const min = parsePrice(q.min ?? "", currency);
    const max = parsePrice(q.max ?? "", currency);
    const filterError =
      min === null || max === null
        ? "Enter prices as numbers, like 20 or 19.99."
        : min !== undefined && max !== undefined && min > max
          ? "The minimum price is higher than the maximum."
          : undefined;
    const base = { category: category.slug, currency, sort, limit: 24 };
    const filtered = {
      ...base,
      brand: q.brand,
      min_price: filterError ? undefined : (min ?? undefined),
      max_price: filterError ? undefined : (max ?? undefined),
    };
    const [result, unfiltered] = await Promise.all([
      listing(c.env, { ...filtered, cursor: q.cursor }),
      listing(c.env, { ...base, limit: 100 }),
    ]);
    const brands = [...new Set(unfiltered.items.map((p) => p.brand).filter(Boolean))].sort();
    const params = new URLSearchParams();
    for (const name of ["brand", "min", "max", "sort"] as const) if (q[name]) params.set(name, q[name]);
    const nextParams = new URLSearchParams(params);
    if (result.next_cursor) nextParams.set("cursor", result.next_cursor);
    return page(c, {
      title: category.name,
      description: category.description,
      children: (
        <CategoryPage
          category={category}
          products={result.items}
          brands={brands}
          filters={{ brand: q.brand ?? "", min: q.min ?? "", max: q.max ?? "", sort }}
          currency={currency}
          filterError={filterError}
          nextHref={result.next_cursor ? `/c/${category.slug}?${nextParams}` : null}
          firstHref={q.cursor ? `/c/${category.slug}${params.size ? `?${params}` : ""}` : null}
        />
      ),
    });
  })
  .get("/p/:slug", pageCache(), async (c) => {
    const product = await productBySlug(c.env, c.req.param("slug"), shopperCurrency(c));
    if (!product) return notFound(c, "product");
    const sales = await saleWindows(c.env, product);
    return page(c, {
      title: product.title,
      description: product.description.slice(0, 160),
      scripts: ["js/product.js"],
      children: <ProductPage product={product} selectedId={c.req.query("variant") ?? null} sales={sales} />,
    });
  })
  .get("/search", pageCache(), (c) => {
    const query = c.req.query("q") ?? "";
    return page(c, {
      title: query ? `Search: ${query}` : "Search",
      scripts: ["js/search.js"],
      searchQuery: query,
      children: <SearchPage query={query} />,
    });
  })
  .get("/cart", noStore(), (c) => page(c, { title: "Cart", scripts: ["js/cart.js"], children: <CartPage /> }))
  .get("/checkout", noStore(), async (c) => {
    // Every country some region ships to; the cart's currency narrows it when the address is set.
    const countries = [...(await regionConfig(c.env)).regionByCountry.keys()];
    return page(c, {
      title: "Checkout",
      scripts: ["js/checkout.js"],
      children: <CheckoutPage countries={countries} />,
    });
  })
  .get("/orders/:id", noStore(), async (c) => {
    const res = await page(c, {
      title: "Order status",
      scripts: ["js/order.js"],
      children: <OrderPage orderId={c.req.param("id")} justPlaced={c.req.query("placed") === "1"} />,
    });
    // The lookup token is in this page's URL: never leak it to other sites via Referer.
    res.headers.set("referrer-policy", "no-referrer");
    return res;
  })
  // Every state-changing form post goes through sameOriginForm() (CSRF) and redirects only
  // to a normalised same-origin path (open redirects).
  .post("/preferences/currency", sameOriginForm(), async (c) => {
    const form = await c.req.parseBody();
    const currency = typeof form.currency === "string" ? form.currency : undefined;
    rememberCurrency(c, currency);
    const back = sameOriginPath(typeof form.return_to === "string" ? form.return_to : undefined, c.req.url);
    return c.redirect(back, 303);
  });

storefrontRoutes.onError(async (error, c) => {
  if (error instanceof ApiError && error.status < 500) {
    // A bad query (e.g. a tampered cursor) is the shopper's URL, not our bug: say so kindly.
    const res = await page(c, { title: "Not found", children: <NotFoundPage what="page" /> }, 404);
    return res;
  }
  log("error", "storefront_render_failed", {
    request_id: c.get("requestId"),
    path: new URL(c.req.url).pathname,
    ...describeError(error),
  });
  return c.html(
    `<!doctype html>${await (
      <Layout title="Error" currency={shopperCurrency(c)} path="/">
        <ErrorPage requestId={c.get("requestId")} />
      </Layout>
    ).toString()}`,
    500,
  );
});
