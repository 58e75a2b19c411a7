import { describe, expect, it } from "vitest";
import { call, expectProblem } from "./helpers";

const ALLOWED = "http://localhost:8787";
const FOREIGN = "https://evil.example";

const preflight = (origin: string, method = "POST", headers = "content-type, x-cart-token") =>
  call("/api/carts", {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
  });

describe("CORS for /api/*", () => {
  it("answers a preflight from an allowed origin with that exact origin, never *", async () => {
    const res = await preflight(ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toContain("x-cart-token");
    expect(res.headers.get("access-control-allow-headers")).toContain("cloudflare-workers-version-key");
    expect(res.headers.has("access-control-allow-credentials")).toBe(false);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("refuses a preflight from an origin that is not listed", async () => {
    const res = await preflight(FOREIGN);
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
    await expectProblem(res, 403, "cors_origin_denied");
  });

  it("refuses a preflight asking for a header the API does not accept", async () => {
    const res = await preflight(ALLOWED, "POST", "content-type, x-forwarded-host");
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
    await expectProblem(res, 403, "cors_request_denied");
  });

  it("refuses a state-changing request carrying a foreign Origin before any handler runs", async () => {
    const res = await call("/api/carts", {
      method: "POST",
      headers: { origin: FOREIGN, "content-type": "text/plain" },
      body: "{}",
    });
    await expectProblem(res, 403, "cors_origin_denied");
  });

  it("lets allowed origins read responses and the headers clients need", async () => {
    const res = await call("/api/does-not-exist", { headers: { origin: ALLOWED } });
    expect(res.status).toBe(404);
    expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    const exposed = res.headers.get("access-control-expose-headers") ?? "";
    for (const name of ["x-request-id", "x-popcart-version", "x-popcart-version-key", "retry-after"]) {
      expect(exposed).toContain(name);
    }
  });

  it("serves a foreign origin's read without granting it access to the body", async () => {
    const res = await call("/api/does-not-exist", { headers: { origin: FOREIGN } });
    expect(res.status).toBe(404);
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
  });

  it("treats the API's own origin as allowed (same-origin storefront POSTs send Origin)", async () => {
    const res = await call("/api/does-not-exist", {
      method: "POST",
      headers: { origin: "http://popcart.test" },
    });
    await expectProblem(res, 404, "route_not_found");
  });

  it("does not apply API CORS outside /api", async () => {
    const res = await call("/health", { headers: { origin: ALLOWED } });
    expect(res.headers.has("access-control-allow-origin")).toBe(false);
  });
});
