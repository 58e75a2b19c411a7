import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("operations surface", () => {
  it("reports version and healthy bindings on /health", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      version: { id: string };
      checks: Record<string, { ok: boolean }>;
    };
    expect(body.status).toBe("ok");
    expect(typeof body.version.id).toBe("string");
    expect(body.checks.d1?.ok).toBe(true);
    expect(body.checks.kv?.ok).toBe(true);
  });

  it("gives every response an x-request-id, echoing a well-formed caller id", async () => {
    const generated = await call("/health");
    expect(generated.headers.get("x-request-id")).toMatch(/^req_[0-9a-z]{20}$/);
    const echoed = await call("/health", { headers: { "x-request-id": "trace-123" } });
    expect(echoed.headers.get("x-request-id")).toBe("trace-123");
    const hostile = await call("/health", { headers: { "x-request-id": `${"x".repeat(65)} <script>` } });
    expect(hostile.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("answers unknown routes with a problem+json 404 carrying the request id", async () => {
    const res = await call("/no/such/route");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as { code: string; request_id: string };
    expect(body.code).toBe("route_not_found");
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
  });

  it("publishes an OpenAPI 3.1 document and a human-readable reference", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/health"]).toBeDefined();
    const page = await call("/docs");
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("/health");
  });

  it("serves /docs as Swagger UI from this origin's fingerprinted assets, not a CDN", async () => {
    const page = await (await call("/docs")).text();
    const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
    const bundle = sources.find((s) => /^\/assets\/vendor\/swagger-ui-bundle\.[0-9a-f]{12}\.js$/.test(s));
    const styles = sources.find((s) => /^\/assets\/vendor\/swagger-ui\.[0-9a-f]{12}\.css$/.test(s));
    const init = sources.find((s) => /^\/assets\/js\/api-docs\.[0-9a-f]{12}\.js$/.test(s));
    expect([bundle, styles, init].every(Boolean)).toBe(true);
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    for (const asset of [bundle, styles, init]) {
      const res = await env.ASSETS.fetch(new URL(asset ?? "", "http://popcart.test"));
      expect(res.status, asset).toBe(200);
      await res.body?.cancel();
    }
  });

  it("serves the empty ceiling route used by the benchmark", async () => {
    const res = await call("/__ping");
    expect(res.status).toBe(204);
  });
});
