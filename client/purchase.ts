/**
 * A whole purchase through the typed client, as a third-party storefront would make it: read a
 * product, create a cart, add a line, give an email, an address and a shipping method, check out
 * with an Idempotency-Key, pay with the test provider's card and read the order back. It is the
 * README's example, and test/client-purchase.test.ts runs it against the worker.
 */
import { cartAuth, must, type PopcartClient, type Schemas } from "./index";

export interface PurchaseInput {
  /** The product's slug, e.g. from `GET /api/products`. */
  slug: string;
  email: string;
  address: Schemas["Address"];
  currency?: Schemas["Money"]["currency"];
  /** Test provider card (only without a Stripe key): 4242424242424242 succeeds. */
  card?: string;
}

/** Buys one unit of the first variant priced in `currency`; resolves to the order. */
export async function purchase(api: PopcartClient, input: PurchaseInput): Promise<Schemas["Order"]> {
  const currency = input.currency ?? "USD";
  const product = await must(
    api.GET("/api/products/{slug}", { params: { path: { slug: input.slug }, query: { currency } } }),
  );
  const variant = product.variants.find((v) => v.price !== null);
  if (!variant) throw new Error(`${input.slug} has no variant priced in ${currency}`);

  const cart = await must(api.POST("/api/carts", { body: { currency } }));
  const headers = cartAuth(cart.token);
  const id = { path: { id: cart.id } };
  await must(
    api.POST("/api/carts/{id}/lines", { params: id, headers, body: { sku: variant.sku, quantity: 1 } }),
  );
  await must(api.PUT("/api/carts/{id}/email", { params: id, headers, body: { email: input.email } }));
  const addressed = await must(
    api.PUT("/api/carts/{id}/shipping-address", { params: id, headers, body: input.address }),
  );
  const method = addressed.shipping_methods[0];
  if (!method) throw new Error("no shipping method offered for this address");
  await must(api.PUT("/api/carts/{id}/shipping-method", { params: id, headers, body: { id: method.id } }));

  // One key per attempt: a retried request (timeout, lost answer) resumes it and never pays twice.
  const idempotencyKey = crypto.randomUUID();
  let checkout = await must(
    api.POST("/api/carts/{id}/checkout", {
      params: { path: { id: cart.id }, header: { "idempotency-key": idempotencyKey } },
      headers,
    }),
  );
  checkout = await must(
    api.POST("/api/checkouts/{id}/confirm", {
      params: { path: { id: checkout.id } },
      headers,
      body: { card_number: input.card ?? "4242424242424242" },
    }),
  );
  // Completion (order creation) can trail the payment: poll the checkout until it settles.
  for (let i = 0; i < 40 && checkout.status !== "completed"; i++) {
    if (checkout.status === "failed" || checkout.status === "expired") {
      throw new Error(`checkout ${checkout.id} ${checkout.status}: ${checkout.failure?.message ?? ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
    checkout = await must(api.GET("/api/checkouts/{id}", { params: { path: { id: checkout.id } }, headers }));
  }
  const order = checkout.order;
  if (!order?.lookup_token) throw new Error(`checkout ${checkout.id} did not complete (${checkout.status})`);
  return must(
    api.GET("/api/orders/{id}", { params: { path: { id: order.id }, query: { token: order.lookup_token } } }),
  );
}
