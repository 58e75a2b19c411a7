import { describe, expect, it } from "vitest";
import { call } from "./helpers";

/** Every route of the public contract (shared/API.md), as OpenAPI method + path. */
const CONTRACT: [string, string][] = [
  ["get", "/health"],
  ["get", "/api/products"],
  ["get", "/api/products/{slug}"],
  ["get", "/api/categories"],
  ["get", "/api/search"],
  ["get", "/api/search/suggest"],
  ["get", "/api/availability"],
  ["post", "/api/carts"],
  ["get", "/api/carts/{id}"],
  ["post", "/api/carts/{id}/lines"],
  ["patch", "/api/carts/{id}/lines/{line_id}"],
  ["delete", "/api/carts/{id}/lines/{line_id}"],
  ["put", "/api/carts/{id}/email"],
  ["put", "/api/carts/{id}/shipping-address"],
  ["put", "/api/carts/{id}/shipping-method"],
  ["post", "/api/carts/{id}/promotions"],
  ["delete", "/api/carts/{id}/promotions/{code}"],
  ["post", "/api/carts/{id}/checkout"],
  ["get", "/api/checkouts/{id}"],
  ["post", "/api/checkouts/{id}/confirm"],
  ["get", "/api/orders/{id}"],
  ["post", "/webhooks/stripe"],
  ["get", "/admin/api/products"],
  ["post", "/admin/api/products"],
  ["get", "/admin/api/products/{id}"],
  ["patch", "/admin/api/products/{id}"],
  ["delete", "/admin/api/products/{id}"],
  ["post", "/admin/api/products/{id}/variants"],
  ["patch", "/admin/api/variants/{id}"],
  ["get", "/admin/api/categories"],
  ["post", "/admin/api/categories"],
  ["get", "/admin/api/inventory/{sku}"],
  ["put", "/admin/api/inventory/{sku}"],
  ["post", "/admin/api/inventory/{sku}/adjustments"],
  ["put", "/admin/api/inventory/{sku}/sale"],
  ["delete", "/admin/api/inventory/{sku}/reservations/{id}"],
  ["get", "/admin/api/orders"],
  ["get", "/admin/api/orders/{id}"],
  ["post", "/admin/api/orders/{id}/fulfilments"],
  ["post", "/admin/api/orders/{id}/cancel"],
  ["post", "/admin/api/orders/{id}/refunds"],
  ["get", "/admin/api/promotions"],
  ["post", "/admin/api/promotions"],
  ["get", "/admin/api/events/dead-letters"],
  ["post", "/admin/api/events/dead-letters/{id}/replay"],
  ["get", "/admin/api/search/zero-results"],
];

describe("OpenAPI document", () => {
  it("publishes every route of the API contract with its responses", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    };
    const missing = CONTRACT.filter(([method, path]) => !doc.paths[path]?.[method]).map((r) => r.join(" "));
    expect(missing).toEqual([]);
    for (const [method, path] of CONTRACT) {
      expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {}).length).toBeGreaterThan(0);
    }
  });
});
