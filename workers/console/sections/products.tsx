import { Hono } from "hono";
import type { FC } from "hono/jsx";
import type { AdminCategory, AdminProduct, AdminProductSummary } from "../../catalog/schemas";
import { CURRENCY_CODES, type Currency, formatMoney } from "../../lib/money";
import { parsePrice } from "../../storefront/catalog";
import { DataTable, Field, PostForm, ReadOnly } from "../components";
import { type ConsoleContext, type ConsoleEnv, can } from "../context";
import { formFields, formList } from "../form";
import { done, failure, type PageOptions, page, section } from "../page";

const STATUSES = ["draft", "active", "archived"] as const;
const productPath = (id: string) => `/admin/products/${encodeURIComponent(id)}`;

/** Price fields `price_USD` … → the API's price list; a bad amount is reported by currency. */
function pricesFrom(f: Record<string, string>): {
  prices: { currency: Currency; amount: number }[];
  bad: string[];
} {
  const prices: { currency: Currency; amount: number }[] = [];
  const bad: string[] = [];
  for (const currency of CURRENCY_CODES) {
    const text = f[`price_${currency}`] ?? "";
    const amount = parsePrice(text, currency);
    if (amount === null) bad.push(currency);
    else if (amount !== undefined) prices.push({ currency, amount });
  }
  return { prices, bad };
}

const PriceFields: FC<{ prefix: string; prices?: { currency: string; amount: number }[] }> = ({
  prefix,
  prices,
}) => (
  <fieldset class="prices">
    <legend>Prices</legend>
    {CURRENCY_CODES.map((currency) => {
      const current = prices?.find((p) => p.currency === currency);
      return (
        <Field
          name={`price_${currency}`}
          id={`${prefix}-price-${currency}`}
          label={currency}
          inputmode="decimal"
          value={current ? formatMoney({ amount: current.amount, currency }).replace(/[^\d.]/g, "") : ""}
        />
      );
    })}
  </fieldset>
);

const CategoryChecks: FC<{ categories: AdminCategory[]; selected: string[] }> = ({
  categories,
  selected,
}) => (
  <fieldset class="checks">
    <legend>Categories</legend>
    {categories.map((cat) => (
      <div class="field check">
        <input
          type="checkbox"
          id={`cat-${cat.id}`}
          name="category_id"
          value={cat.id}
          checked={selected.includes(cat.id)}
        />
        <label for={`cat-${cat.id}`}>{cat.name}</label>
      </div>
    ))}
  </fieldset>
);

const StatusSelect: FC<{ value: string; id?: string }> = ({ value, id = "f-pstatus" }) => (
  <div class="field">
    <label for={id}>Status</label>
    <select id={id} name="status">
      {STATUSES.map((s) => (
        <option value={s} selected={s === value}>
          {s}
        </option>
      ))}
    </select>
  </div>
);

const ListPage: FC<{
  items: AdminProductSummary[];
  status: string;
  q: string;
  next: string | null;
  categories: AdminCategory[];
  csrf: string;
  writable: boolean;
}> = ({ items, status, q, next, categories, csrf, writable }) => (
  <>
    <h1>Products</h1>
    <search>
      <form method="get" action="/admin/products" class="inline-form">
        <Field name="q" label="Title, slug or SKU" type="search" value={q} />
        <div class="field">
          <label for="f-filter-status">Status</label>
          <select id="f-filter-status" name="status">
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option value={s} selected={s === status}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Search</button>
      </form>
    </search>
    <DataTable caption="Newest first" headers={["Title", "Brand", "Status", "Updated (UTC)"]}>
      {items.map((p) => (
        <tr>
          <th scope="row">
            <a href={productPath(p.id)}>{p.title}</a>
            <br />
            <span class="muted">{p.slug}</span>
          </th>
          <td>{p.brand}</td>
          <td>{p.status}</td>
          <td>{p.updated_at.slice(0, 16).replace("T", " ")}</td>
        </tr>
      ))}
    </DataTable>
    {next ? (
      <p>
        <a href={`/admin/products?${new URLSearchParams({ status, q, cursor: next })}`}>Older products</a>
      </p>
    ) : null}
    {writable ? (
      <section class="card" aria-labelledby="new-h">
        <h2 id="new-h">New product</h2>
        <PostForm action="/admin/products" csrf={csrf} label="New product">
          <Field name="title" label="Title" required />
          <Field
            name="slug"
            label="Slug"
            required
            hint="Lowercase words joined by hyphens, used in the URL."
          />
          <Field name="brand" label="Brand" />
          <div class="field">
            <label for="f-description">Description</label>
            <textarea id="f-description" name="description" rows={3} />
          </div>
          <StatusSelect value="draft" />
          <CategoryChecks categories={categories} selected={[]} />
          <Field name="sku" label="First variant SKU" required />
          <PriceFields prefix="new" />
          <button type="submit">Create product</button>
        </PostForm>
      </section>
    ) : (
      <ReadOnly scope="catalog:write" />
    )}
  </>
);

const ProductPage: FC<{
  product: AdminProduct;
  categories: AdminCategory[];
  csrf: string;
  writable: boolean;
}> = ({ product, categories, csrf, writable }) => {
  const media = product.media[0];
  return (
    <>
      <p class="crumbs">
        <a href="/admin/products">Products</a> / {product.title}
      </p>
      <h1>{product.title}</h1>
      <p>
        Status: <strong data-product-status>{product.status}</strong> · revision {product.revision} ·{" "}
        <a href={`/p/${encodeURIComponent(product.slug)}`}>storefront page</a>
      </p>
      <h2 id="variants-h">Variants</h2>
      <DataTable labelledBy="variants-h" headers={["SKU", "Title", "Status", "Prices"]}>
        {product.variants.map((v) => (
          <tr>
            <th scope="row">
              <a href={`/admin/inventory/${encodeURIComponent(v.sku)}`}>{v.sku}</a>
            </th>
            <td>{v.title}</td>
            <td>{v.status}</td>
            <td>
              {v.prices
                .map((p) => formatMoney({ amount: p.amount, currency: p.currency as Currency }))
                .join(" · ")}
            </td>
          </tr>
        ))}
      </DataTable>
      {writable ? (
        <div class="forms">
          <section class="card" aria-labelledby="edit-h">
            <h2 id="edit-h">Details</h2>
            <PostForm action={productPath(product.id)} csrf={csrf} label="Edit product">
              <Field name="title" label="Title" value={product.title} required />
              <Field name="slug" label="Slug" value={product.slug} required />
              <Field name="brand" label="Brand" value={product.brand} />
              <div class="field">
                <label for="f-description">Description</label>
                <textarea id="f-description" name="description" rows={4}>
                  {product.description}
                </textarea>
              </div>
              <StatusSelect value={product.status} />
              <CategoryChecks categories={categories} selected={product.category_ids} />
              <Field
                name="media_url"
                label="Image URL"
                value={media?.url ?? ""}
                hint="https:// or a site path; replaces the product's images. Empty removes them."
              />
              <Field name="media_alt" label="Image description (alt text)" value={media?.alt ?? ""} />
              <button type="submit">Save</button>
            </PostForm>
          </section>
          {product.variants.map((v) => (
            <section class="card" aria-labelledby={`v-${v.id}-h`}>
              <h2 id={`v-${v.id}-h`}>Variant {v.sku}</h2>
              <PostForm
                action={`/admin/products/${product.id}/variants/${v.id}`}
                csrf={csrf}
                label={`Edit ${v.sku}`}
              >
                <Field name="title" id={`v-${v.id}-title`} label="Title" value={v.title} />
                <PriceFields prefix={`v-${v.id}`} prices={v.prices} />
                <button type="submit">Save variant</button>
              </PostForm>
            </section>
          ))}
          <section class="card" aria-labelledby="add-variant-h">
            <h2 id="add-variant-h">Add a variant</h2>
            <PostForm action={`${productPath(product.id)}/variants`} csrf={csrf} label="Add variant">
              <Field name="sku" id="nv-sku" label="SKU" required />
              <Field name="title" id="nv-title" label="Title" />
              <PriceFields prefix="nv" />
              <button type="submit">Add variant</button>
            </PostForm>
          </section>
          {product.status !== "archived" ? (
            <section class="card" aria-labelledby="archive-h">
              <h2 id="archive-h">Archive</h2>
              <PostForm
                action={`${productPath(product.id)}/archive`}
                csrf={csrf}
                label="Archive product"
                confirm="Archive this product? It leaves the storefront."
              >
                <button type="submit" class="danger">
                  Archive product
                </button>
              </PostForm>
            </section>
          ) : null}
        </div>
      ) : (
        <ReadOnly scope="catalog:write" />
      )}
    </>
  );
};

async function categoriesOf(c: ConsoleContext): Promise<AdminCategory[]> {
  const result = await c.get("api").get<{ items: AdminCategory[] }>("/categories");
  return result.ok ? result.data.items : [];
}

async function showList(c: ConsoleContext, opts: PageOptions = {}) {
  const status = c.req.query("status") ?? "";
  const q = c.req.query("q")?.trim() ?? "";
  const [list, categories] = await Promise.all([
    c.get("api").get<{ items: AdminProductSummary[]; next_cursor: string | null }>("/products", {
      status,
      q,
      cursor: c.req.query("cursor"),
      limit: "50",
    }),
    categoriesOf(c),
  ]);
  const props = { status, q, categories, csrf: c.get("session").csrf, writable: can(c, "catalog:write") };
  if (!list.ok) return page(c, "Products", <ListPage items={[]} next={null} {...props} />, failure(list));
  return page(
    c,
    "Products",
    <ListPage items={list.data.items} next={list.data.next_cursor} {...props} />,
    opts,
  );
}

async function showProduct(c: ConsoleContext, id: string, opts: PageOptions = {}) {
  const [result, categories] = await Promise.all([
    c.get("api").get<AdminProduct>(`/products/${encodeURIComponent(id)}`),
    categoriesOf(c),
  ]);
  if (!result.ok) return page(c, "Product", <p>No such product.</p>, failure(result));
  return page(
    c,
    result.data.title,
    <ProductPage
      product={result.data}
      categories={categories}
      csrf={c.get("session").csrf}
      writable={can(c, "catalog:write")}
    />,
    opts,
  );
}

const badPrices = (bad: string[]): PageOptions => ({
  error: `Enter prices as numbers, like 19.99 (${bad.join(", ")}).`,
  status: 422,
});

/** Products: list, create, edit, archive; variants with prices per currency; media; categories. */
export const productsSection = new Hono<ConsoleEnv>()
  .use("*", section("catalog:read"))
  .get("/", (c) => showList(c))
  .post("/", async (c) => {
    const f = await formFields(c);
    const { prices, bad } = pricesFrom(f);
    if (bad.length) return showList(c, badPrices(bad));
    const result = await c.get("api").send<AdminProduct>("POST", "/products", {
      title: f.title,
      slug: f.slug,
      brand: f.brand ?? "",
      description: f.description ?? "",
      status: f.status,
      category_ids: await formList(c, "category_id"),
      variants: f.sku ? [{ sku: f.sku, prices }] : [],
    });
    if (!result.ok) return showList(c, failure(result));
    return done(c, productPath(result.data.id), "product_created");
  })
  .get("/:id", (c) => showProduct(c, c.req.param("id")))
  .post("/:id", async (c) => {
    const id = c.req.param("id");
    const f = await formFields(c);
    const result = await c.get("api").send("PATCH", `/products/${encodeURIComponent(id)}`, {
      title: f.title,
      slug: f.slug,
      brand: f.brand ?? "",
      description: f.description ?? "",
      status: f.status,
      category_ids: await formList(c, "category_id"),
      media: f.media_url ? [{ url: f.media_url, alt: f.media_alt ?? "" }] : [],
    });
    if (!result.ok) return showProduct(c, id, failure(result));
    return done(c, productPath(id), "product_saved");
  })
  .post("/:id/archive", async (c) => {
    const id = c.req.param("id");
    const result = await c.get("api").send("DELETE", `/products/${encodeURIComponent(id)}`);
    if (!result.ok) return showProduct(c, id, failure(result));
    return done(c, productPath(id), "product_archived");
  })
  .post("/:id/variants", async (c) => {
    const id = c.req.param("id");
    const f = await formFields(c);
    const { prices, bad } = pricesFrom(f);
    if (bad.length) return showProduct(c, id, badPrices(bad));
    const result = await c.get("api").send("POST", `/products/${encodeURIComponent(id)}/variants`, {
      sku: f.sku,
      title: f.title ?? "",
      prices,
    });
    if (!result.ok) return showProduct(c, id, failure(result));
    return done(c, productPath(id), "variant_added");
  })
  .post("/:id/variants/:variant", async (c) => {
    const id = c.req.param("id");
    const f = await formFields(c);
    const { prices, bad } = pricesFrom(f);
    if (bad.length) return showProduct(c, id, badPrices(bad));
    const result = await c
      .get("api")
      .send("PATCH", `/variants/${encodeURIComponent(c.req.param("variant"))}`, {
        title: f.title ?? "",
        prices,
      });
    if (!result.ok) return showProduct(c, id, failure(result));
    return done(c, productPath(id), "variant_saved");
  });
