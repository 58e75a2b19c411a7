import { describe, expect, it } from "vitest";
import { sameOriginPath } from "../workers/lib/same-origin";
import { storefrontRoutes } from "../workers/storefront/routes";
import { call, expectProblem } from "./helpers";

const ORIGIN = "http://popcart.test";

/** Paths a browser would follow to another origin, or that hide such a path behind encoding. */
const HOSTILE_RETURN_PATHS = [
  "/\t/evil.example",
  "/\n/evil.example",
  "/\r\n/evil.example",
  "/ /evil.example",
  "//evil.example",
  "///evil.example",
  "/\\evil.example",
  "\\\\evil.example",
  "/%09/evil.example",
  "/%0a/evil.example",
  "/%2F%2Fevil.example",
  "/%2f/evil.example",
  "/%5Cevil.example",
  "/%252F%252Fevil.example",
  "/%25252F%25252Fevil.example",
  "/.//evil.example",
  "/..//evil.example",
  "https://evil.example/",
  "http://popcart.test@evil.example/",
  "javascript:alert(1)",
  " /p/shirt",
  "%2F%2Fevil.example",
  "/%E0%A4%A",
  "",
];

const switchCurrency = (returnTo: string, headers: Record<string, string> = { origin: ORIGIN }) =>
  call("/preferences/currency", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ currency: "EUR", return_to: returnTo }),
    redirect: "manual",
  });

describe("storefront redirects stay on this origin", () => {
  it.each(HOSTILE_RETURN_PATHS)("sends %j home", async (returnTo) => {
    expect(sameOriginPath(returnTo, `${ORIGIN}/preferences/currency`)).toBe("/");
    const res = await switchCurrency(returnTo);
    expect(res.status).toBe(303);
    const location = res.headers.get("location") ?? "";
    expect(location).toBe("/");
    expect(new URL(location, ORIGIN).origin).toBe(ORIGIN);
  });

  it("keeps a same-origin path with its query and fragment", async () => {
    const res = await switchCurrency("/c/shoes?min=10&max=20#results");
    expect(res.headers.get("location")).toBe("/c/shoes?min=10&max=20#results");
    expect(sameOriginPath("/search?q=caf%C3%A9", `${ORIGIN}/`)).toBe("/search?q=caf%C3%A9");
  });
});

describe("storefront form posts refuse cross-site requests (CSRF)", () => {
  const refused: [string, Record<string, string>][] = [
    ["another site's Origin", { origin: "https://evil.example" }],
    ["an opaque Origin (sandboxed frame, data: URL)", { origin: "null" }],
    ["a cross-site Sec-Fetch-Site", { "sec-fetch-site": "cross-site" }],
    ["a same-site (sibling subdomain) Sec-Fetch-Site", { "sec-fetch-site": "same-site", origin: ORIGIN }],
    ["no evidence at all", {}],
  ];

  it.each(refused)("refuses a post with %s, changing nothing", async (_what, headers) => {
    const res = await switchCurrency("/p/shirt", headers);
    await expectProblem(res, 403, "cross_site_request");
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.headers.get("location")).toBeNull();
  });

  it("accepts our own pages' posts (Origin, or Sec-Fetch-Site same-origin)", async () => {
    const ours: Record<string, string>[] = [{ origin: ORIGIN }, { "sec-fetch-site": "same-origin" }];
    for (const headers of ours) {
      const res = await switchCurrency("/p/shirt", headers);
      expect(res.status).toBe(303);
      expect(res.headers.get("set-cookie")).toMatch(/popcart_currency=EUR/);
    }
  });

  it("guards every state-changing storefront route, not just the region switcher", async () => {
    const posts = storefrontRoutes.routes.filter((r) => !["GET", "HEAD", "ALL"].includes(r.method));
    const paths = [...new Set(posts.map((r) => r.path))];
    expect(paths).toContain("/preferences/currency");
    for (const path of paths) {
      const res = await call(path.replace(/:[^/]+/g, "x"), {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
        body: "",
      });
      await expectProblem(res, 403, "cross_site_request");
    }
  });
});
