import type { FC } from "hono/jsx";
import { type CardProduct, ProductCard } from "../components";

export interface HomeProps {
  featured: CardProduct[];
  categories: { slug: string; name: string; description: string }[];
}

/** Home: featured (most popular) products and the top-level categories. */
export const HomePage: FC<HomeProps> = ({ featured, categories }) => (
  <>
    <h1>Welcome to Popcart</h1>
    <section aria-labelledby="featured-heading">
      <h2 id="featured-heading">Featured products</h2>
      {featured.length ? (
        <ul class="product-grid">
          {featured.map((product, i) => (
            <ProductCard product={product} eager={i < 2} />
          ))}
        </ul>
      ) : (
        <p>No products yet. Seed the demo catalog with `npm run dev`.</p>
      )}
    </section>
    <section aria-labelledby="categories-heading">
      <h2 id="categories-heading">Shop by category</h2>
      <ul>
        {categories.map((cat) => (
          <li>
            <a href={`/c/${cat.slug}`}>{cat.name}</a>
            {cat.description ? ` — ${cat.description}` : ""}
          </li>
        ))}
      </ul>
    </section>
  </>
);
