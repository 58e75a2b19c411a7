import { describe, expect, it } from "vitest";
import committedText from "../client/openapi.json?raw";
import { isRateLimited } from "../workers/edge/rate-limits";
import { call } from "./helpers";

interface Doc {
  servers: { url: string }[];
  info: { license?: { name: string; identifier?: string } };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { type?: unknown }> };
}
interface Operation {
  operationId?: string;
  security?: unknown[];
  requestBody?: unknown;
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { headers?: Record<string, unknown> }>;
}

// Read as text: type-checking a 400 KB JSON module would slow `tsc` down for nothing.
const committed: unknown = JSON.parse(committedText);
const served = async () => (await (await call("/openapi.json")).json()) as Doc;
const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method, path, op })),
  );

describe("OpenAPI document for third-party tools", () => {
  it("is the document committed as client/openapi.json (run `npm run openapi` after changing a route)", async () => {
    expect(await served()).toEqual(committed);
  });

  it("names every operation uniquely and marks public ones with an empty security requirement", async () => {
    const ops = operations(await served());
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ops.filter(({ op }) => !Array.isArray(op.security)).map(({ path }) => path)).toEqual([]);
    const product = ops.find(({ method, path }) => method === "get" && path === "/api/products/{slug}");
    expect(product?.op.security).toEqual([]);
  });

  it("keeps Money, Address and ShippingMethod non-nullable where a nullable copy is also used", async () => {
    const { components } = await served();
    for (const name of ["Money", "Address", "ShippingMethod"]) {
      expect(components.schemas[name]?.type, name).toBe("object");
    }
  });

  it("requires Idempotency-Key on checkout, as the route does", async () => {
    const { paths } = await served();
    const header = paths["/api/carts/{id}/checkout"]?.post?.parameters?.find(
      (p) => p.in === "header" && p.name === "idempotency-key",
    );
    expect(header?.required).toBe(true);
    const res = await call("/api/carts/cart_missing/checkout", { method: "POST" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("idempotency_key_required");
  });

  it("declares 413 and 415 on bodies, 429 where a rate limit applies, and the headers every answer carries", async () => {
    for (const { method, path, op } of operations(await served())) {
      const statuses = Object.keys(op.responses);
      if (op.requestBody)
        expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(["413", "415"]));
      expect(statuses.includes("429"), `${method} ${path}`).toBe(isRateLimited(method, path));
      for (const [status, response] of Object.entries(op.responses)) {
        expect(Object.keys(response.headers ?? {}), `${method} ${path} ${status}`).toEqual(
          expect.arrayContaining(["x-request-id", "Server-Timing", "x-popcart-version"]),
        );
        if (status === "429") expect(response.headers).toHaveProperty("Retry-After");
      }
    }
    const products = (await served()).paths["/api/products"]?.get?.responses["200"]?.headers;
    expect(products).toHaveProperty("ETag");
  });

  it("answers 415 for a non-JSON body and 413 for an oversized one, as declared", async () => {
    const text = await call("/api/carts", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "currency=USD",
    });
    expect(text.status).toBe(415);
    const huge = await call("/api/carts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ currency: "USD", padding: "x".repeat(70 * 1024) }),
    });
    expect(huge.status).toBe(413);
  });

  it("points at the serving origin and states its licence", async () => {
    const doc = await served();
    expect(doc.servers).toEqual([{ url: "/", description: "The Worker serving this document" }]);
    expect(doc.info.license?.identifier).toBe("LicenseRef-Proprietary");
  });
});
