import { ADMIN, callJson } from "./helpers";

const rand = () => crypto.randomUUID().slice(0, 8);

export interface Fixture {
  category: { id: string; slug: string; name: string };
  shirt: { slug: string; title: string; skus: string[] };
  mug: { slug: string; title: string; sku: string };
}

async function admin<T>(path: string, body: unknown): Promise<T> {
  const res = await callJson(`/admin/api${path}`, "POST", body, ADMIN);
  if (res.status !== 201 && res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A category with a two-option shirt (sizes × colours, on sale in USD) and a plain mug, via the admin API. */
export async function createFixture(): Promise<Fixture> {
  const id = rand();
  const category = await admin<{ id: string; slug: string; name: string }>("/categories", {
    slug: `tops-${id}`,
    name: `Tops ${id}`,
    description: "Shirts and tees",
  });
  const shirtSlug = `linen-shirt-${id}`;
  const skus = [`SHIRT-${id}-S-BLUE`, `SHIRT-${id}-M-BLUE`, `SHIRT-${id}-M-RED`];
  const options = [
    { size: "S", colour: "Blue" },
    { size: "M", colour: "Blue" },
    { size: "M", colour: "Red" },
  ];
  await admin("/products", {
    slug: shirtSlug,
    title: `Linen Shirt ${id}`,
    description: "A breezy linen shirt.",
    brand: "Northwind",
    status: "active",
    popularity: 900_000_000,
    category_ids: [category.id],
    media: [{ url: "/img/shirt.jpg", alt: "Blue linen shirt", width: 800, height: 1000 }],
    variants: skus.map((sku, i) => ({
      sku,
      title: `${options[i]?.size} / ${options[i]?.colour}`,
      options: options[i],
      prices: [
        { currency: "USD", amount: 4999 + i * 100, compare_at_amount: 6999 },
        { currency: "EUR", amount: 4599 + i * 100 },
      ],
    })),
  });
  const mugSlug = `enamel-mug-${id}`;
  const mugSku = `MUG-${id}`;
  await admin("/products", {
    slug: mugSlug,
    title: `Enamel Mug ${id}`,
    brand: "Contoso",
    status: "active",
    popularity: 800_000_000,
    category_ids: [category.id],
    variants: [{ sku: mugSku, title: "Default", prices: [{ currency: "USD", amount: 1500 }] }],
  });
  return {
    category,
    shirt: { slug: shirtSlug, title: `Linen Shirt ${id}`, skus },
    mug: { slug: mugSlug, title: `Enamel Mug ${id}`, sku: mugSku },
  };
}
