import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import staticHeaders from "../static/_headers?raw";
import { createApp } from "../workers/edge/app";
import { HSTS, HTML_CSP, PERMISSIONS_POLICY } from "../workers/lib/security-headers";
import { ServerTiming } from "../workers/lib/server-timing";
import { ADMIN, call, callJson, timingOf } from "./helpers";

describe("version headers", () => {
  it("stamps the running version id on every response, errors included", async () => {
    const expected = env.CF_VERSION_METADATA.id;
    // A real version id (a UUID), so the headers below cannot match an absent one.
    expect(expected).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const responses = await Promise.all([
      call("/health"),
      call("/openapi.json"),
      call("/docs"),
      call("/__ping"),
      call("/no/such/route"),
      call("/admin/api/products", { headers: { "cf-connecting-ip": `198.51.100.${rand(250)}` } }),
      callJson("/api/carts", "POST", "{not json", { "cf-connecting-ip": `203.0.113.${rand(250)}` }),
    ]);
    for (const res of responses) {
      expect(res.headers.get("x-popcart-version"), res.url).toBe(expected);
      if (env.CF_VERSION_METADATA.tag) {
        expect(res.headers.get("x-popcart-version-tag")).toBe(env.CF_VERSION_METADATA.tag);
      } else {
        expect(res.headers.has("x-popcart-version-tag")).toBe(false);
      }
    }
  });

  it("reports the same version in /health as in the header", async () => {
    const res = await call("/health");
    const body = (await res.json()) as { version: { id: string } };
    expect(body.version.id).toBe(res.headers.get("x-popcart-version"));
  });
});

describe("Server-Timing", () => {
  it("answers every response with a Server-Timing total", async () => {
    for (const path of ["/health", "/no/such/route", "/__ping"]) {
      const res = await call(path);
      expect(res.headers.get("server-timing"), path).toMatch(/(^|, )total;dur=\d+(\.\d)?$/);
    }
    // The total spans the whole request: at least as long as each step measured inside it.
    const health = (await call("/health")).headers.get("server-timing");
    expect(timingOf(health, "total")).toBeGreaterThanOrEqual(
      Math.max(timingOf(health, "d1"), timingOf(health, "kv")),
    );
  });

  it("shows the time /health spent probing D1 and KV", async () => {
    const header = (await call("/health")).headers.get("server-timing") ?? "";
    expect(header).toMatch(/(^|, )d1;dur=\d/);
    expect(header).toMatch(/(^|, )kv;dur=\d/);
  });

  it("sums repeated calls measured through c.get('timing') into one entry", async () => {
    const app = createApp();
    app.get("/__timed", async (c) => {
      const timing = c.get("timing");
      await timing.measure("kv", () => c.env.CATALOG_KV.get(`timing:${crypto.randomUUID()}`));
      await timing.measure("kv", () => c.env.CATALOG_KV.get(`timing:${crypto.randomUUID()}`));
      await timing.measure("d1", () => c.env.DB.prepare("select 1").first());
      return c.json({ ok: true });
    });
    const res = await app.request("/__timed", {}, env);
    const header = res.headers.get("server-timing") ?? "";
    expect(header).toMatch(/^kv;dur=\d+(\.\d)?;desc="2 calls", d1;dur=\d+(\.\d)?, total;dur=/);
  });

  it("records a measurement even when the measured call throws", async () => {
    const timing = new ServerTiming();
    await expect(
      timing.measure("payment", async () => {
        await scheduler.wait(5);
        throw new Error("provider down");
      }),
    ).rejects.toThrow("provider down");
    // The 5 ms the call spent before throwing are counted (a lower bound cannot flake).
    expect(timing.total("payment")).toBeGreaterThanOrEqual(5);
    expect(timingOf(timing.header(), "payment")).toBe(Math.round(timing.total("payment") * 10) / 10);
  });

  it("refuses metric names that would corrupt the header", () => {
    const timing = new ServerTiming();
    expect(() => timing.record("kv, evil;dur=1", 1)).toThrow(/invalid Server-Timing/);
    expect(timing.header()).toBe("");
  });
});

describe("security headers", () => {
  it("gives HTML pages a Stripe-compatible CSP, HSTS, anti-framing and nosniff", async () => {
    const res = await call("/docs");
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toBe(HTML_CSP);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/script-src [^;]*https:\/\/js\.stripe\.com/);
    expect(csp).toMatch(/connect-src [^;]*https:\/\/api\.stripe\.com/);
    expect(csp).toMatch(/frame-src [^;]*https:\/\/js\.stripe\.com[^;]*https:\/\/hooks\.stripe\.com/);
    expect(csp).not.toMatch(/script-src [^;]*'unsafe-inline'/);
    expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d{8,}; includeSubDomains$/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
  });

  it("gives JSON and problem responses a deny-all CSP and nosniff", async () => {
    for (const res of [
      await call("/health"),
      await call("/nope"),
      await call("/admin/api/x", { headers: ADMIN }),
    ]) {
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.has("x-frame-options")).toBe(false);
    }
  });

  it("reach a response whose headers are immutable (a fetch result), and leave its body whole", async () => {
    const app = createApp();
    const body = JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => `item-${i}`) });
    // Response.redirect and fetch() answer with immutable headers: setting one in place throws.
    app.get("/__immutable", () => Response.redirect("https://example.com/next", 302));
    app.get("/__proxied", async () => {
      const upstream = new Response(body, { headers: { "content-type": "application/json" } });
      return new Response(upstream.body, { status: 200, headers: upstream.headers });
    });
    const redirected = await app.request("/__immutable", {}, env);
    expect(() => Response.redirect("https://example.com/", 302).headers.set("x", "y")).toThrow(TypeError);
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get("location")).toBe("https://example.com/next");
    const proxied = await app.request("/__proxied", { headers: { "x-request-id": "req-abc" } }, env);
    for (const res of [redirected, proxied]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get("x-popcart-version")).toBe(env.CF_VERSION_METADATA.id);
      expect(res.headers.get("server-timing")).toMatch(/total;dur=/);
      expect(res.headers.get("x-request-id")).toBeTruthy();
    }
    expect(proxied.headers.get("x-request-id")).toBe("req-abc");
    expect(await proxied.text()).toBe(body);
  });
});

describe("static asset headers", () => {
  it("give storefront assets (served before the Worker) the same policy as Worker HTML", () => {
    const rules = new Map(
      staticHeaders
        .split("\n")
        .filter((line) => /^\s+\S/.test(line))
        .map((line) => {
          const at = line.indexOf(":");
          return [line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim()] as const;
        }),
    );
    expect(staticHeaders).toMatch(/^\/\*$/m);
    expect(rules.get("content-security-policy")).toBe(HTML_CSP);
    expect(rules.get("strict-transport-security")).toBe(HSTS);
    expect(rules.get("permissions-policy")).toBe(PERMISSIONS_POLICY);
    expect(rules.get("x-content-type-options")).toBe("nosniff");
    expect(rules.get("x-frame-options")).toBe("DENY");
  });
});

const rand = (n: number) => 1 + Math.floor(Math.random() * n);
