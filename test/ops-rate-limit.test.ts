import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../workers/edge/app";
import {
  cartKey,
  clientCartKey,
  clientKey,
  ipv6Prefix64,
  rateLimit,
  WRITE_METHODS,
} from "../workers/lib/rate-limit";
import { call, expectProblem, inOneWindow, randomIp } from "./helpers";

// wrangler.toml: ADMIN_RATE_LIMITER allows 120 requests per 60 s per client.
const ADMIN_LIMIT = 120;
const PERIOD_MS = 60_000;

const rand = (n: number) => 1 + Math.floor(Math.random() * n);

const adminCall = (ip: string) =>
  call("/admin/api/products", { headers: { "cf-connecting-ip": ip, authorization: "Bearer wrong-token" } });

describe("admin API rate limit", () => {
  it("answers 429 rate_limited with Retry-After once a client exceeds its budget", async () => {
    const { statuses, limited } = await inOneWindow(PERIOD_MS, async () => {
      const ip = randomIp();
      const statuses: number[] = [];
      for (let i = 0; i < ADMIN_LIMIT; i++) {
        const res = await adminCall(ip);
        statuses.push(res.status);
        await res.body?.cancel();
      }
      return { statuses, limited: await adminCall(ip) };
    });
    expect(statuses.filter((status) => status === 429)).toEqual([]);
    expect(statuses).toHaveLength(ADMIN_LIMIT);
    expect(limited.headers.get("retry-after")).toBe("60");
    const body = await expectProblem(limited, 429, "rate_limited");
    expect(body).toMatchObject({ retry_after: 60, status: 429 });
    // Refused before the routes, yet still traceable like every response.
    expect(limited.headers.get("x-request-id")).toMatch(/^req_[0-9a-z]{20}$/);

    const other = await adminCall(randomIp());
    expect(other.status).not.toBe(429);
  });

  it("counts an IPv6 /64 as one client", async () => {
    const { statuses, limited } = await inOneWindow(PERIOD_MS, async () => {
      const prefix = `2001:db8:${rand(9000).toString(16)}:${rand(9000).toString(16)}`;
      const statuses: number[] = [];
      for (let i = 0; i < ADMIN_LIMIT; i++) {
        const res = await adminCall(`${prefix}::${(i + 1).toString(16)}`);
        statuses.push(res.status);
        await res.body?.cancel();
      }
      return { statuses, limited: await adminCall(`${prefix}:abcd:1:2:3`) };
    });
    expect(statuses.filter((status) => status === 429)).toEqual([]);
    await expectProblem(limited, 429, "rate_limited");
  });

  it("does not count callers without a client address (only possible off Cloudflare)", async () => {
    const app = createApp();
    const res = await app.request(
      "/admin/api/products",
      {},
      {
        ...env,
        ADMIN_RATE_LIMITER: { limit: async () => ({ success: false }) },
      },
    );
    expect(res.status).not.toBe(429);
  });

  it("lets requests through when the limiter itself fails, rather than failing the store", async () => {
    const app = createApp();
    const failing = {
      limit: async () => {
        throw new Error("limiter unavailable");
      },
    };
    const res = await app.request(
      "/admin/api/products",
      { headers: { "cf-connecting-ip": randomIp() } },
      { ...env, ADMIN_RATE_LIMITER: failing },
    );
    expect(res.status).not.toBe(429);
    expect(res.status).toBeLessThan(500);
  });

  it("refuses before authentication when the limiter says no", async () => {
    const app = createApp();
    const res = await app.request(
      "/admin/api/products",
      { headers: { "cf-connecting-ip": randomIp(), authorization: "Bearer test-admin-token" } },
      { ...env, ADMIN_RATE_LIMITER: { limit: async () => ({ success: false }) } },
    );
    await expectProblem(res, 429, "rate_limited");
  });
});

describe("ipv6Prefix64", () => {
  it("expands :: and keeps the first four groups", () => {
    expect(ipv6Prefix64("2001:db8::1")).toBe("2001:db8:0:0");
    expect(ipv6Prefix64("2001:0db8:0001:0002:aaaa::1")).toBe("2001:db8:1:2");
    expect(ipv6Prefix64("::1")).toBe("0:0:0:0");
    expect(ipv6Prefix64("2001:DB8:1:2:3:4:5:6")).toBe("2001:db8:1:2");
  });
});

describe("rateLimit() for route groups", () => {
  // wrangler.toml: CART_WRITE_RATE_LIMITER allows 30 writes per 10 s per cart.
  const CART_LIMIT = 30;

  function cartApp() {
    const app = createApp();
    app.use(
      "/__carts/:id/*",
      rateLimit({
        binding: "CART_WRITE_RATE_LIMITER",
        periodSeconds: 10,
        key: cartKey(),
        methods: WRITE_METHODS,
      }),
    );
    app.post("/__carts/:id/lines", (c) => c.json({ ok: true }, 201));
    app.get("/__carts/:id/lines", (c) => c.json({ ok: true }));
    return app;
  }

  it("limits writes per cart, leaves reads and other carts alone", async () => {
    const app = cartApp();
    const post = (id: string) => app.request(`/__carts/${id}/lines`, { method: "POST" }, env);
    const { cart, statuses, limited } = await inOneWindow(10_000, async () => {
      const cart = `cart_${crypto.randomUUID()}`;
      const statuses: number[] = [];
      for (let i = 0; i < CART_LIMIT; i++) statuses.push((await post(cart)).status);
      return { cart, statuses, limited: await post(cart) };
    });
    expect(statuses).toEqual(Array(CART_LIMIT).fill(201));
    expect(limited.headers.get("retry-after")).toBe("10");
    await expectProblem(limited, 429, "rate_limited");
    expect((await app.request(`/__carts/${cart}/lines`, {}, env)).status).toBe(200);
    expect((await post(`cart_${crypto.randomUUID()}`)).status).toBe(201);
  });

  it("derives client and cart keys from the request", async () => {
    const app = createApp();
    app.get("/__keys/:id", (c) =>
      c.json({ client: clientKey(c), cart: cartKey()(c), both: clientCartKey()(c) }),
    );
    const res = await app.request("/__keys/cart_1", { headers: { "cf-connecting-ip": "2001:db8::7" } }, env);
    expect(await res.json()).toEqual({
      client: "ip6:2001:db8:0:0",
      cart: "cart:cart_1",
      both: "ip6:2001:db8:0:0|cart:cart_1",
    });
    const anonymous = await app.request("/__keys/cart_2", {}, env);
    expect(await anonymous.json()).toEqual({ client: null, cart: "cart:cart_2", both: null });
  });
});
