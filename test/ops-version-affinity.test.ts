import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../workers/edge/app";
import { newId } from "../workers/lib/ids";
import { problems } from "../workers/lib/problem";
import { cartVersionKey, useCartVersionKey } from "../workers/lib/version-affinity";
import { call } from "./helpers";

/** The edge app plus stand-in cart routes, so affinity is tested without the cart domain. */
function appWithCartRoutes() {
  const app = createApp();
  app.post("/api/carts", async (c) => {
    const id = newId("cart");
    await useCartVersionKey(c, id);
    return c.json({ id }, 201);
  });
  app.get("/api/carts/:id", (c) => c.json({ id: c.req.param("id") }));
  app.post("/api/carts/:id/lines", (c) => {
    if (c.req.header("x-cart-token") !== "ok") throw problems.notFound("Cart", "cart_not_found");
    return c.json({ id: c.req.param("id") }, 201);
  });
  app.get("/api/checkouts/:id", (c) => c.json({ id: c.req.param("id") }));
  return app;
}

const cookieKey = (res: Response) => /popcart_vk=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];

describe("version affinity", () => {
  it("pins a new cart's shopper to the key derived from the cart id", async () => {
    const res = await appWithCartRoutes().request("/api/carts", { method: "POST" }, env);
    const { id } = (await res.json()) as { id: string };
    const key = await cartVersionKey(id);
    expect(key).toMatch(/^vk_[0-9a-f]{32}$/);
    expect(key).not.toContain(id);
    expect(res.headers.get("x-popcart-version-key")).toBe(key);
    expect(cookieKey(res)).toBe(key);
    expect(res.headers.get("set-cookie")).toMatch(/HttpOnly/i);
    expect(res.headers.get("set-cookie")).toMatch(/Secure/i);
    expect(res.headers.get("set-cookie")).toMatch(/SameSite=Lax/i);
  });

  it("answers every cart route with the cart's key, whatever key the request carried", async () => {
    const app = appWithCartRoutes();
    const id = newId("cart");
    const key = await cartVersionKey(id);
    for (const [path, method] of [
      [`/api/carts/${id}`, "GET"],
      [`/api/carts/${id}/lines`, "POST"],
    ] as const) {
      const res = await app.request(
        path,
        { method, headers: { "cloudflare-workers-version-key": "vk_session", "x-cart-token": "ok" } },
        env,
      );
      expect(res.status, path).toBeLessThan(300);
      expect(res.headers.get("x-popcart-version-key"), path).toBe(key);
    }
  });

  it("does not set a cookie again when the request already carries the right key", async () => {
    const id = newId("cart");
    const key = await cartVersionKey(id);
    const res = await appWithCartRoutes().request(
      `/api/carts/${id}`,
      { headers: { cookie: `popcart_vk=${key}` } },
      env,
    );
    expect(res.headers.get("x-popcart-version-key")).toBe(key);
    expect(res.headers.has("set-cookie")).toBe(false);
  });

  it("never derives a key from a cart the caller could not open", async () => {
    const id = newId("cart");
    const res = await appWithCartRoutes().request(
      `/api/carts/${id}/lines`,
      { method: "POST", headers: { "cloudflare-workers-version-key": "vk_mine" } },
      env,
    );
    expect(res.status).toBe(404);
    expect(res.headers.get("x-popcart-version-key")).toBe("vk_mine");
  });

  it("keeps the key a checkout request carries (the cart's) instead of minting one", async () => {
    const res = await appWithCartRoutes().request(
      `/api/checkouts/${newId("chk")}`,
      { headers: { cookie: "popcart_vk=vk_from_cart" } },
      env,
    );
    expect(res.headers.get("x-popcart-version-key")).toBe("vk_from_cart");
    expect(res.headers.has("set-cookie")).toBe(false);
  });

  it("ignores malformed keys and mints a random session key", async () => {
    const res = await call(`/api/checkouts/${newId("chk")}`, {
      headers: { "cloudflare-workers-version-key": "bad key; injected=1" },
    });
    const key = res.headers.get("x-popcart-version-key");
    expect(key).toMatch(/^vk_[0-9a-f]{32}$/);
    expect(cookieKey(res)).toBe(key);
  });

  it("leaves catalog and health responses cacheable: no affinity cookie there", async () => {
    for (const path of ["/health", "/api/products"]) {
      const res = await call(path);
      expect(res.headers.has("set-cookie"), path).toBe(false);
      expect(res.headers.has("x-popcart-version-key"), path).toBe(false);
    }
  });
});
