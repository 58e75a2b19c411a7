import type { FC } from "hono/jsx";
import { formatMoney, type Money } from "../lib/money";
import { ASSETS } from "./asset-manifest.gen";

/** Price with an optional struck-through compare-at price (only when it is higher). */
export const Price: FC<{ price: Money | null; compareAt?: Money | null }> = ({ price, compareAt }) => {
  if (!price) return <span class="price">Not sold in this currency</span>;
  const showCompare = compareAt && compareAt.amount > price.amount;
  return (
    <span>
      <span class="price">{formatMoney(price)}</span>
      {showCompare ? (
        <>
          {" "}
          <s class="compare-at">
            <span class="visually-hidden">was </span>
            {formatMoney(compareAt)}
          </s>
        </>
      ) : null}
    </span>
  );
};

export interface CardProduct {
  slug: string;
  title: string;
  brand: string;
  price: Money;
  compare_at_price: Money | null;
  image: { url: string; alt: string } | null;
}

/**
 * A product tile. Listing images carry no intrinsic size, so every tile reserves a square
 * box (width/height attributes + CSS) and the grid never shifts as images arrive.
 */
export const ProductCard: FC<{ product: CardProduct; eager?: boolean }> = ({ product, eager }) => (
  <li class="card">
    <a href={`/p/${product.slug}`}>
      <img
        src={product.image?.url ?? ASSETS["img/placeholder.svg"]}
        alt={product.image?.alt ?? ""}
        width="600"
        height="600"
        style="aspect-ratio:1/1;object-fit:cover"
        loading={eager ? "eager" : "lazy"}
        decoding="async"
      />
      <h3>{product.title}</h3>
    </a>
    {product.brand ? <div>{product.brand}</div> : null}
    <Price price={product.price} compareAt={product.compare_at_price} />
    {product.compare_at_price && product.compare_at_price.amount > product.price.amount ? (
      <>
        {" "}
        <span class="badge">Sale</span>
      </>
    ) : null}
  </li>
);
