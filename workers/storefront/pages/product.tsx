import type { FC } from "hono/jsx";
import type { Money } from "../../lib/money";
import { ASSETS } from "../asset-manifest.gen";
import { Price } from "../components";

/** The product fields the page renders (a structural subset of the catalog's ProductDetail). */
export interface PageProduct {
  slug: string;
  title: string;
  description: string;
  brand: string;
  options: { name: string; values: string[] }[];
  variants: {
    id: string;
    sku: string;
    title: string;
    options: Record<string, string>;
    price: Money | null;
    compare_at_price: Money | null;
  }[];
  media: { url: string; alt: string; width: number | null; height: number | null }[];
  categories: { slug: string; name: string }[];
}

/** Flash-sale window per SKU, as the client needs it for the countdown. */
export interface SaleWindow {
  starts_at: string | null;
  ends_at: string | null;
  reserve_on_add_to_cart: boolean;
  /** The sale's waiting room: the page queues the shopper there before adding to the cart. */
  waiting_room: string | null;
}

export interface ProductProps {
  product: PageProduct;
  selectedId: string | null;
  sales: Record<string, SaleWindow>;
}

const optionId = (name: string, value: string) =>
  `opt-${name}-${value}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-");

/** JSON for the client module, safe inside <script>: `<` can never close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replaceAll("<", "\\u003c");

/**
 * Product page. Everything a shopper reads (title, price, options, images) is server-rendered;
 * the client module adds live availability, the sale countdown and add-to-cart.
 */
export const ProductPage: FC<ProductProps> = ({ product, selectedId, sales }) => {
  const selected =
    product.variants.find((v) => v.id === selectedId) ??
    product.variants.find((v) => v.price !== null) ??
    product.variants[0];
  const images = product.media.length
    ? product.media
    : [{ url: ASSETS["img/placeholder.svg"], alt: "", width: 600, height: 600 }];
  const anySale = product.variants.some((v) => sales[v.sku]);
  const data = {
    variants: product.variants.map((v) => ({
      id: v.id,
      sku: v.sku,
      title: v.title,
      options: v.options,
      price: v.price,
      compare_at: v.compare_at_price,
    })),
    sales,
  };
  return (
    <>
      <nav aria-label="Breadcrumb">
        <a href="/">Home</a>
        {product.categories[0] ? (
          <>
            {" › "}
            <a href={`/c/${product.categories[0].slug}`}>{product.categories[0].name}</a>
          </>
        ) : null}
        {" › "}
        <span aria-current="page">{product.title}</span>
      </nav>
      <article class="product" data-product>
        <div class="gallery">
          {images.map((image, i) => (
            <img
              src={image.url}
              alt={image.alt || (i === 0 ? product.title : "")}
              width={String(image.width ?? 600)}
              height={String(image.height ?? 600)}
              loading={i === 0 ? "eager" : "lazy"}
              fetchpriority={i === 0 ? "high" : "auto"}
              decoding="async"
            />
          ))}
        </div>
        <div>
          <h1>{product.title}</h1>
          {product.brand ? <p>{product.brand}</p> : null}
          <p>
            <span data-price>
              {selected?.price ? (
                <Price price={selected.price} />
              ) : (
                <span class="price">Not sold in this currency</span>
              )}
            </span>{" "}
            <s class="compare-at" data-compare-at>
              {selected?.price &&
              selected.compare_at_price &&
              selected.compare_at_price.amount > selected.price.amount ? (
                <Price price={selected.compare_at_price} />
              ) : null}
            </s>
          </p>
          {anySale ? (
            <section class="sale-panel" data-sale aria-labelledby="sale-heading">
              <h2 id="sale-heading">Flash sale</h2>
              <p class="countdown" data-countdown role="timer" aria-live="off">
                Limited stock, limited time.
              </p>
              <p class="queue" data-queue role="status" aria-live="polite" hidden />
            </section>
          ) : null}
          <div class="options" data-options>
            {product.options.map((option) => (
              <fieldset>
                <legend>{option.name}</legend>
                <div class="swatches">
                  {option.values.map((value) => (
                    <label for={optionId(option.name, value)}>
                      <input
                        type="radio"
                        id={optionId(option.name, value)}
                        name={`option-${option.name}`}
                        value={value}
                        data-option={option.name}
                        checked={selected?.options[option.name] === value}
                      />
                      <span>{value}</span>
                    </label>
                  ))}
                </div>
              </fieldset>
            ))}
          </div>
          <p class="availability" data-availability role="status">
            Checking availability…
          </p>
          <form data-add>
            <input type="hidden" name="sku" value={selected?.sku ?? ""} />
            <div class="inline-form">
              <div class="field">
                <label for="quantity">Quantity</label>
                <input
                  id="quantity"
                  name="quantity"
                  type="number"
                  inputmode="numeric"
                  min="1"
                  max="10"
                  value="1"
                />
              </div>
              <button type="submit">Add to cart</button>
            </div>
            <p class="error-message" role="alert" data-add-error />
            <p role="status" data-add-notice />
            <div class="notice" data-hold hidden role="status" />
            <noscript>
              <p>Adding to the cart needs JavaScript enabled.</p>
            </noscript>
          </form>
          <p>
            SKU: <span data-sku>{selected?.sku}</span>
          </p>
          <h2>Description</h2>
          <p>{product.description}</p>
        </div>
        <script
          type="application/json"
          id="product-data"
          dangerouslySetInnerHTML={{ __html: scriptJson(data) }}
        />
      </article>
    </>
  );
};
