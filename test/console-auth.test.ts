import { describe, expect, it } from "vitest";
import { ConsoleClient, csrfOf } from "./console-fixtures";
import { ADMIN, call } from "./helpers";
import { randomSku, stockSku } from "./inventory-fixtures";

// wrangler.toml: ADMIN_SIGN_IN_RATE_LIMITER allows 10 attempts per 60 s per client.
const SIGN_IN_LIMIT = 10;

const onHand = async (sku: string) => {
  const res = await call(`/admin/api/inventory/${sku}`, { headers: ADMIN });
  return ((await res.json()) as { on_hand: number }).on_hand;
};

describe("console sign-in and session", () => {
  it("sends a visitor without a session to sign-in, remembering where they were going", async () => {
    const res = await new ConsoleClient().request("/admin/orders?status=paid");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/sign-in?next=%2Fadmin%2Forders%3Fstatus%3Dpaid");
  });

  it("opens an HttpOnly, Secure, SameSite=Strict, short-lived session for a valid token", async () => {
    const client = new ConsoleClient();
    const res = await client.signIn("test-admin-token", "/admin/inventory");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/inventory");
    const cookie = res.headers.getSetCookie().find((line) => line.startsWith("__Host-popcart-admin="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=3600/);
    const page = await client.request("/admin");
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(await page.text()).toContain("<h1>Dashboard</h1>");
  });

  it("refuses a wrong token with 401 and sets no session", async () => {
    const client = new ConsoleClient();
    const res = await client.signIn("not-a-token");
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("That token is not valid.");
    expect(client.cookies.has("__Host-popcart-admin")).toBe(false);
  });

  it("never redirects off the console after sign-in", async () => {
    const res = await new ConsoleClient().signIn("test-admin-token", "//evil.example/admin");
    expect(res.headers.get("location")).toBe("/admin");
  });

  it("refuses a sign-in post without the form's CSRF token, or from another site", async () => {
    const client = new ConsoleClient();
    await client.request("/admin/sign-in");
    const forged = await client.post("/admin/sign-in", { _csrf: "guessed", token: "test-admin-token" });
    expect(forged.status).toBe(403);
    const csrf = csrfOf(await (await client.request("/admin/sign-in")).text());
    const crossSite = await client.post(
      "/admin/sign-in",
      { _csrf: csrf, token: "test-admin-token" },
      { origin: "https://evil.example" },
    );
    expect(crossSite.status).toBe(403);
    expect(client.cookies.has("__Host-popcart-admin")).toBe(false);
  });

  it("refuses a tampered session cookie", async () => {
    const client = new ConsoleClient();
    await client.session();
    const value = client.cookies.get("__Host-popcart-admin") ?? "";
    // Push the expiry a day out without re-signing.
    const [id, exp, sig] = value.split(".");
    client.cookies.set("__Host-popcart-admin", `${id}.${Number(exp) + 86_400_000}.${sig}`);
    expect((await client.request("/admin")).status).toBe(303);
  });

  it("sign-out revokes the session server-side: a kept copy of the cookie stops working", async () => {
    const client = new ConsoleClient();
    const csrf = await client.session();
    const copy = client.cookieHeader();
    const out = await client.post("/admin/sign-out", { _csrf: csrf });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/admin/sign-in");
    const replay = await call("/admin", {
      headers: { cookie: copy, accept: "text/html" },
      redirect: "manual",
    });
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toMatch(/^\/admin\/sign-in/);
  });

  it("rate-limits sign-in attempts per client: the attempt past the budget gets 429 with Retry-After", async () => {
    const client = new ConsoleClient();
    const statuses: number[] = [];
    for (let i = 0; i <= SIGN_IN_LIMIT; i++) statuses.push((await client.signIn("wrong-token")).status);
    // Local limiter windows follow the wall clock, so the budget may straddle two windows;
    // either way the 429 comes with Retry-After and no attempt past it reaches the token check.
    const limited = await client.signIn("test-admin-token");
    expect([...statuses, limited.status]).toContain(429);
    const last = statuses.includes(429) ? await client.signIn("test-admin-token") : limited;
    expect(last.status).toBe(429);
    expect(last.headers.get("retry-after")).toBe("60");
    expect(client.cookies.has("__Host-popcart-admin")).toBe(false);
    // Another client is unaffected.
    expect((await new ConsoleClient().signIn("test-admin-token")).status).toBe(303);
  });
});

describe("console forms", () => {
  it("refuses a form without the session's CSRF token and changes nothing", async () => {
    const sku = randomSku("CSL");
    await stockSku(sku, 5);
    const client = new ConsoleClient();
    await client.session();
    const res = await client.post(`/admin/inventory/${sku}/stock`, { on_hand: "9", reason: "recount" });
    expect(res.status).toBe(403);
    expect(await onHand(sku)).toBe(5);
  });

  it("refuses a form posted from another origin even with a valid token", async () => {
    const sku = randomSku("CSL");
    await stockSku(sku, 5);
    const client = new ConsoleClient();
    const csrf = await client.session();
    const res = await client.post(
      `/admin/inventory/${sku}/stock`,
      { _csrf: csrf, on_hand: "9", reason: "recount" },
      { origin: "https://evil.example" },
    );
    expect(res.status).toBe(403);
    expect(await onHand(sku)).toBe(5);
  });

  it("sets stock through the admin API with a reason that lands in the adjustments log", async () => {
    const sku = randomSku("CSL");
    await stockSku(sku, 5);
    const client = new ConsoleClient();
    const csrf = await client.session();
    const res = await client.post(`/admin/inventory/${sku}/stock`, {
      _csrf: csrf,
      on_hand: "12",
      reason: "cycle count",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/admin/inventory/${sku}?notice=stock_set`);
    expect(await onHand(sku)).toBe(12);
    const page = await (await client.request(`/admin/inventory/${sku}?notice=stock_set`)).text();
    expect(page).toContain("Stock saved.");
    expect(page).toContain("cycle count");
  });

  it("shows the admin API's refusal next to the form, with its status", async () => {
    const sku = randomSku("CSL");
    await stockSku(sku, 5);
    const client = new ConsoleClient();
    const csrf = await client.session();
    const res = await client.post(`/admin/inventory/${sku}/stock`, {
      _csrf: csrf,
      on_hand: "-3",
      reason: "x",
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toMatch(/role="alert"[^>]*>[^<]*on_hand/);
    expect(await onHand(sku)).toBe(5);
  });

  it("the same form submitted twice sets stock once (the form carries an idempotency key)", async () => {
    const sku = randomSku("CSL");
    await stockSku(sku, 5);
    const client = new ConsoleClient();
    const csrf = await client.session();
    const fields = {
      _csrf: csrf,
      on_hand: "7",
      reason: "double click",
      idempotency_key: "req_0123456789abcdefghjk",
    };
    await client.post(`/admin/inventory/${sku}/stock`, fields);
    await client.post(`/admin/inventory/${sku}/stock`, fields);
    const view = (await (await call(`/admin/api/inventory/${sku}`, { headers: ADMIN })).json()) as {
      adjustments: { reason: string }[];
    };
    expect(view.adjustments.filter((a) => a.reason === "double click")).toHaveLength(1);
  });
});

describe("console scopes", () => {
  it("hides the sections a scoped token cannot read and answers 403 for them", async () => {
    const client = new ConsoleClient();
    await client.session("inventory-reader-token");
    const dashboard = await (await client.request("/admin")).text();
    expect(dashboard).toContain('href="/admin/inventory"');
    expect(dashboard).not.toContain('href="/admin/orders"');
    expect(dashboard).not.toContain('href="/admin/promotions"');
    expect((await client.request("/admin/orders")).status).toBe(403);
  });

  it("shows inventory read-only to a token without inventory:write, and the API refuses a forged post", async () => {
    const sku = randomSku("CSL");
    await stockSku(sku, 5);
    const client = new ConsoleClient();
    const csrf = await client.session("inventory-reader-token");
    const page = await (await client.request(`/admin/inventory/${sku}`)).text();
    expect(page).toContain("Read-only: this token lacks the <code>inventory:write</code> scope.");
    expect(page).not.toContain("Set stock</button>");
    const res = await client.post(`/admin/inventory/${sku}/stock`, {
      _csrf: csrf,
      on_hand: "50",
      reason: "x",
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("lacks the &#39;inventory:write&#39; scope");
    expect(await onHand(sku)).toBe(5);
  });

  it("the admin JSON API keeps its bearer auth: a console session cookie opens nothing there", async () => {
    const client = new ConsoleClient();
    await client.session();
    const res = await client.request("/admin/api/orders", { headers: { accept: "application/json" } });
    expect(res.status).toBe(401);
  });
});
