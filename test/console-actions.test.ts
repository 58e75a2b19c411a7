import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../workers/lib/ids";
import { ConsoleClient } from "./console-fixtures";
import { ADMIN, call, callJson } from "./helpers";
import { paidOrderWithStock } from "./order-fixtures";

const adminOrder = async (id: string) =>
  (await (await call(`/admin/api/orders/${id}`, { headers: ADMIN })).json()) as {
    refunded_total: { amount: number };
    payment_status: string;
    refunds: unknown[];
  };

async function deadLetter(queue = "ORDER_EVENTS"): Promise<string> {
  const id = `dl_${newId("evt").slice(4)}`;
  await env.DB.prepare(
    "insert into dead_letters (id, event_id, queue, consumer, type, payload, error, attempts, failed_at) values (?, ?, ?, 'fulfilment', 'order.paid', '{}', 'receiver answered 500', 5, ?)",
  )
    .bind(id, newId("evt"), queue, Date.now())
    .run();
  return id;
}

describe("console order actions", () => {
  it("refunds part of an order from its page, in the order's currency", async () => {
    const { order } = await paidOrderWithStock();
    const client = new ConsoleClient();
    const csrf = await client.session();
    const page = await (await client.request(`/admin/orders/${order.id}`)).text();
    expect(page).toContain(`Order ${order.number}`);
    const res = await client.post(`/admin/orders/${order.id}/refund`, {
      _csrf: csrf,
      amount: "10.00",
      reason: "damaged",
      idempotency_key: newId("req"),
    });
    expect(res.status).toBe(303);
    const after = await adminOrder(order.id);
    expect(after.refunded_total.amount).toBe(1000);
    expect(after.payment_status).toBe("partially_refunded");
  });

  it("refuses an amount that is not money without refunding anything", async () => {
    const { order } = await paidOrderWithStock();
    const client = new ConsoleClient();
    const csrf = await client.session();
    const res = await client.post(`/admin/orders/${order.id}/refund`, { _csrf: csrf, amount: "10.005" });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("Enter the amount in USD");
    expect((await adminOrder(order.id)).refunds).toHaveLength(0);
  });

  it("records a shipment with its tracking number", async () => {
    const { order } = await paidOrderWithStock();
    const client = new ConsoleClient();
    const csrf = await client.session();
    const res = await client.post(`/admin/orders/${order.id}/fulfil`, {
      _csrf: csrf,
      status: "shipped",
      carrier: "UPS",
      tracking: "1Z999",
    });
    expect(res.status).toBe(303);
    const page = await (await client.request(`/admin/orders/${order.id}`)).text();
    expect(page).toMatch(/data-order-status[^>]*>shipped</);
  });
});

describe("console events", () => {
  it("replays the selected dead letters and leaves the others", async () => {
    const [a, b, untouched] = [await deadLetter(), await deadLetter(), await deadLetter()];
    const client = new ConsoleClient();
    const csrf = await client.session();
    const list = await (await client.request("/admin/events")).text();
    expect(list).toContain("receiver answered 500");
    const res = await client.post("/admin/events/replay", { _csrf: csrf, id: [a as string, b as string] });
    expect(res.status).toBe(303);
    const { results } = await env.DB.prepare(
      "select id, replay_count from dead_letters where id in (?, ?, ?) order by id",
    )
      .bind(a, b, untouched)
      .all<{ id: string; replay_count: number }>();
    expect(Object.fromEntries(results.map((r) => [r.id, r.replay_count]))).toEqual({
      [a as string]: 1,
      [b as string]: 1,
      [untouched as string]: 0,
    });
  });

  it("reports a dead letter it could not replay instead of claiming success", async () => {
    const id = await deadLetter();
    const client = new ConsoleClient();
    const csrf = await client.session();
    await client.post("/admin/events/replay", { _csrf: csrf, id });
    const again = await client.post("/admin/events/replay", { _csrf: csrf, id });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("already replayed");
  });
});

describe("admin API additions behind the console", () => {
  it("lists SKU levels summed over shards, by literal prefix", async () => {
    const prefix = `LVL_${crypto.randomUUID().slice(0, 6)}`;
    const now = Date.now();
    const insert = env.DB.prepare(
      "insert into inventory_levels (sku, shard, level_version, on_hand, available, reserved, sold, sku_on_hand, occurred_at, updated_at) values (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
    );
    await env.DB.batch([
      insert.bind(`${prefix}-A`, 0, 10, 4, 1, 0, 30, now, now),
      insert.bind(`${prefix}-A`, 1, 10, 7, 2, 1, null, now, now),
      insert.bind(`${prefix}-B`, 0, 5, 5, 0, 0, 5, now, now),
      // `_` is literal in a prefix, never a wildcard.
      insert.bind(`${prefix.replace("_", "X")}-C`, 0, 1, 1, 0, 0, 1, now, now),
    ]);
    const res = await call(`/admin/api/inventory?q=${prefix}`, { headers: ADMIN });
    const body = (await res.json()) as { data: { sku: string }[] };
    expect(body.data).toEqual([
      expect.objectContaining({
        sku: `${prefix}-A`,
        on_hand: 30,
        available: 11,
        reserved: 3,
        sold: 1,
        shards: 2,
      }),
      expect.objectContaining({ sku: `${prefix}-B`, on_hand: 5, available: 5, reserved: 0 }),
    ]);
    const active = (await (
      await call(`/admin/api/inventory?q=${prefix}&active=true`, { headers: ADMIN })
    ).json()) as { data: { sku: string }[] };
    expect(active.data.map((r) => r.sku)).toEqual([`${prefix}-A`]);
  });

  it("overview counts today's orders and revenue and the dead letters awaiting replay", async () => {
    const before = (await (await call("/admin/api/overview", { headers: ADMIN })).json()) as {
      orders_today: number;
      revenue_today: { currency: string; gross: number }[];
      dead_letters_pending: number;
    };
    await paidOrderWithStock();
    await deadLetter();
    const after = (await (await call("/admin/api/overview", { headers: ADMIN })).json()) as typeof before;
    expect(after.orders_today).toBe(before.orders_today + 1);
    const usd = (o: typeof before) => o.revenue_today.find((r) => r.currency === "USD")?.gross ?? 0;
    expect(usd(after)).toBe(usd(before) + 3000);
    expect(after.dead_letters_pending).toBe(before.dead_letters_pending + 1);
  });

  it("finds products by title or slug fragment, or by a variant's exact SKU", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const sku = `FIND-${tag}`;
    const created = await callJson(
      "/admin/api/products",
      "POST",
      { slug: `needle-${tag}`, title: `Haystack Needle ${tag}`, variants: [{ sku }] },
      ADMIN,
    );
    const { id } = (await created.json()) as { id: string };
    const search = async (q: string) =>
      (
        (await (await call(`/admin/api/products?q=${encodeURIComponent(q)}`, { headers: ADMIN })).json()) as {
          items: { id: string }[];
        }
      ).items.map((p) => p.id);
    expect(await search(`NEEDLE ${tag.toUpperCase()}`)).toEqual([id]);
    expect(await search(`needle-${tag}`)).toEqual([id]);
    expect(await search(sku)).toEqual([id]);
    expect(await search(`FIND-${tag.slice(0, 4)}`)).toEqual([]);
  });

  it("disables a promotion code, and answers 404 for an unknown one", async () => {
    const code = `OFF${crypto.randomUUID().slice(0, 6).toUpperCase()}`;
    const created = await callJson(
      "/admin/api/promotions",
      "POST",
      { code, type: "percentage", percentage_bp: 500 },
      ADMIN,
    );
    const { id } = (await created.json()) as { id: string };
    const res = await callJson(`/admin/api/promotions/${id}`, "PATCH", { active: false }, ADMIN);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ code, active: false });
    const missing = await callJson("/admin/api/promotions/promo_nope", "PATCH", { active: false }, ADMIN);
    expect(missing.status).toBe(404);
  });
});
