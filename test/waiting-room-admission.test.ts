import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../workers/edge/app";
import { getInventory } from "../workers/inventory/service";
import { signAdmission } from "../workers/waiting-room/token";
import { ADMIN, call, callJson, expectProblem } from "./helpers";
import { addLine, cartOf, newCart, seedSku, type TestCart, US_ADDRESS } from "./revenue-fixtures";
import { admissionFor, randomRoom, setUpRoom } from "./waiting-room-fixtures";

/** A stocked SKU whose sale sends shoppers through a fresh, fast room (admits on join). */
async function gatedSku(options: { reserveOnAdd?: boolean; stock?: number } = {}) {
  const room = randomRoom();
  await setUpRoom(room, { admit_per_minute: 60_000 });
  const { sku } = await seedSku({ USD: 2500 });
  const stocked = await callJson(
    `/admin/api/inventory/${sku}`,
    "PUT",
    { on_hand: options.stock ?? 10 },
    ADMIN,
  );
  expect(stocked.status).toBe(200);
  const sale = await callJson(
    `/admin/api/inventory/${sku}/sale`,
    "PUT",
    { reserve_on_add_to_cart: options.reserveOnAdd ?? true, waiting_room: room },
    ADMIN,
  );
  expect(sale.status).toBe(200);
  expect(((await sale.json()) as { policy: { waiting_room: string } }).policy.waiting_room).toBe(room);
  return { room, sku };
}

const admitted = (token: string) => ({ "popcart-admission": token });

function setQuantity(cart: TestCart, lineId: string, quantity: number, headers: Record<string, string> = {}) {
  return callJson(
    `/api/carts/${cart.id}/lines/${lineId}`,
    "PATCH",
    { quantity },
    { ...cart.headers, ...headers },
  );
}

const reservedOf = async (sku: string) => (await getInventory(env, sku)).reserved;

async function readyForCheckout(cart: TestCart) {
  await callJson(
    `/api/carts/${cart.id}/email`,
    "PUT",
    { email: `${crypto.randomUUID()}@example.com` },
    cart.headers,
  );
  await callJson(`/api/carts/${cart.id}/shipping-address`, "PUT", US_ADDRESS, cart.headers);
  await callJson(`/api/carts/${cart.id}/shipping-method`, "PUT", { id: "us_standard" }, cart.headers);
}

const checkout = (cart: TestCart, headers: Record<string, string> = {}) =>
  callJson(
    `/api/carts/${cart.id}/checkout`,
    "POST",
    {},
    {
      ...cart.headers,
      "idempotency-key": crypto.randomUUID(),
      ...headers,
    },
  );

describe("reservations behind a waiting room", () => {
  it("refuses to reserve without an admission, names the room to join and takes no stock", async () => {
    const { room, sku } = await gatedSku();
    const cart = await newCart();
    const body = await expectProblem(await addLine(cart, sku, 1), 403, "admission_required");
    expect(body).toMatchObject({ waiting_room: room, join_url: `/api/waiting-rooms/${room}/tickets`, sku });
    expect(await reservedOf(sku)).toBe(0);
    expect((await cartOf(await call(`/api/carts/${cart.id}`, { headers: cart.headers }))).lines).toEqual([]);
  });

  it("treats forged, re-signed, other-room and garbage tokens as no admission", async () => {
    const { room, sku } = await gatedSku();
    const other = randomRoom();
    await setUpRoom(other, { admit_per_minute: 60_000 });
    const genuine = await admissionFor(room);
    const [head, payload, signature = ""] = genuine.split(".");
    const flipped = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    const forgedPayload = btoa(
      JSON.stringify({ r: room, t: "tkt_00000000000000000000", e: Date.now() + 1e9 }),
    )
      .replaceAll("=", "")
      .replaceAll("+", "-")
      .replaceAll("/", "_");
    const tokens = [
      `${head}.${payload}.${flipped}`,
      `${head}.${forgedPayload}.${signature}`,
      await signAdmission("another-secret-of-at-least-32-characters!", {
        room,
        ticket: "tkt_00000000000000000000",
        expires_at: Date.now() + 600_000,
      }),
      await admissionFor(other),
      "garbage",
      "wr1.%%%.***",
      `wr1.${"A".repeat(600)}.x`,
    ];
    const cart = await newCart();
    for (const token of tokens) {
      await expectProblem(await addLine(cart, sku, 1, admitted(token)), 403, "admission_required");
    }
    expect(await reservedOf(sku)).toBe(0);
  });

  it("refuses an expired admission with admission_expired", async () => {
    const { room, sku } = await gatedSku();
    const expired = await signAdmission(env.WAITING_ROOM_SECRET, {
      room,
      ticket: "tkt_00000000000000000000",
      expires_at: Date.now() - 1,
    });
    const cart = await newCart();
    const body = await expectProblem(
      await addLine(cart, sku, 1, admitted(expired)),
      403,
      "admission_expired",
    );
    expect(body).toMatchObject({ waiting_room: room });
  });

  it("reserves with an admission; growing a hold needs one, shrinking or removing it does not", async () => {
    const { room, sku } = await gatedSku();
    const token = await admissionFor(room);
    const cart = await newCart();
    const added = await cartOf(await addLine(cart, sku, 1, admitted(token)));
    const line = added.lines[0];
    expect(line?.reservation).not.toBeNull();
    expect(await reservedOf(sku)).toBe(1);
    const lineId = line?.id ?? "";

    await expectProblem(await setQuantity(cart, lineId, 3), 403, "admission_required");
    await expectProblem(await addLine(cart, sku, 1), 403, "admission_required");
    expect(await reservedOf(sku)).toBe(1);
    await cartOf(await setQuantity(cart, lineId, 3, admitted(token)));
    expect(await reservedOf(sku)).toBe(3);
    await cartOf(await setQuantity(cart, lineId, 2));
    expect(await reservedOf(sku)).toBe(2);
    await cartOf(
      await call(`/api/carts/${cart.id}/lines/${lineId}`, { method: "DELETE", headers: cart.headers }),
    );
    expect(await reservedOf(sku)).toBe(0);
  });

  it("gates every shard of a sharded SKU, each holding its own copy of the policy", async () => {
    const { room, sku } = await gatedSku({ stock: 40 });
    const sharded = await callJson(`/admin/api/inventory/${sku}/sale`, "PUT", { shards: 4 }, ADMIN);
    expect(sharded.status).toBe(200);
    const token = await admissionFor(room);
    for (let i = 0; i < 6; i++) {
      // Carts are spread over the shards by a hash of the cart id.
      const cart = await newCart();
      await expectProblem(await addLine(cart, sku, 1), 403, "admission_required");
      await cartOf(await addLine(cart, sku, 1, admitted(token)));
    }
    expect(await reservedOf(sku)).toBe(6);
  });

  it("accepts several comma-separated tokens and uses the one for the sale's room", async () => {
    const { room, sku } = await gatedSku();
    const other = randomRoom();
    await setUpRoom(other, { admit_per_minute: 60_000 });
    const header = ["garbage", await admissionFor(other), await admissionFor(room)].join(", ");
    const cart = await newCart();
    expect((await cartOf(await addLine(cart, sku, 2, admitted(header)))).lines[0]?.quantity).toBe(2);
  });

  it("checks out a gated line that holds no stock only with an admission", async () => {
    const { room, sku } = await gatedSku({ reserveOnAdd: false });
    const cart = await newCart();
    // No stock is taken at add-to-cart for this sale, so no admission is needed yet.
    await cartOf(await addLine(cart, sku, 2));
    await readyForCheckout(cart);
    await expectProblem(await checkout(cart), 403, "admission_required");
    expect(await reservedOf(sku)).toBe(0);
    const started = await checkout(cart, admitted(await admissionFor(room)));
    expect(started.status).toBe(201);
    expect(await reservedOf(sku)).toBe(2);
  });

  it("extends a line's hold past the sale's TTL for checkout only with a live admission", async () => {
    const { room, sku } = await gatedSku();
    const cart = await newCart();
    await cartOf(await addLine(cart, sku, 1, admitted(await admissionFor(room))));
    await readyForCheckout(cart);
    // The payment window outlasts the hold's TTL: keeping the stock that long is a new grant.
    await expectProblem(await checkout(cart), 403, "admission_required");
    expect(await reservedOf(sku)).toBe(1);
    const started = await checkout(cart, admitted(await admissionFor(room)));
    expect(started.status).toBe(201);
    expect(await reservedOf(sku)).toBe(1);
  });

  it("leaves the sale open to everyone once its waiting room is removed", async () => {
    const { sku } = await gatedSku();
    const cart = await newCart();
    await expectProblem(await addLine(cart, sku, 1), 403, "admission_required");
    const off = await callJson(`/admin/api/inventory/${sku}/sale`, "PUT", { waiting_room: null }, ADMIN);
    expect(off.status).toBe(200);
    expect((await cartOf(await addLine(cart, sku, 1))).lines[0]?.reservation).not.toBeNull();
  });

  it("changes nothing for a sale without a waiting room, even with a stray token", async () => {
    const { sku } = await seedSku({ USD: 900 });
    await callJson(`/admin/api/inventory/${sku}`, "PUT", { on_hand: 3 }, ADMIN);
    await callJson(`/admin/api/inventory/${sku}/sale`, "PUT", { reserve_on_add_to_cart: true }, ADMIN);
    const cart = await newCart();
    expect((await cartOf(await addLine(cart, sku, 1))).lines[0]?.reservation).not.toBeNull();
    expect((await cartOf(await addLine(cart, sku, 1, admitted("garbage")))).lines[0]?.quantity).toBe(2);
    expect(await reservedOf(sku)).toBe(2);
  });

  it("refuses to put a sale behind a waiting room that does not exist", async () => {
    const { sku } = await seedSku({ USD: 900 });
    const res = await callJson(
      `/admin/api/inventory/${sku}/sale`,
      "PUT",
      { waiting_room: randomRoom() },
      ADMIN,
    );
    await expectProblem(res, 422, "waiting_room_not_found");
    await expectProblem(
      await callJson(`/admin/api/inventory/${sku}/sale`, "PUT", { waiting_room: "no spaces" }, ADMIN),
      422,
      "validation_failed",
    );
  });

  it("lets ops place a manual hold on a gated SKU without queueing", async () => {
    const { sku } = await gatedSku();
    const res = await callJson(
      `/admin/api/inventory/${sku}/reservations`,
      "POST",
      { holder: "ops-hold", quantity: 2 },
      ADMIN,
    );
    expect(res.status).toBe(201);
    expect(await reservedOf(sku)).toBe(2);
  });

  it("counts refusals for want of an admission in the waiting_room metrics", async () => {
    const { room, sku } = await gatedSku();
    const cart = await newCart();
    const points: AnalyticsEngineDataPoint[] = [];
    const res = await createApp().request(
      `/api/carts/${cart.id}/lines`,
      {
        method: "POST",
        headers: { ...cart.headers, "content-type": "application/json" },
        body: JSON.stringify({ sku, quantity: 1 }),
      },
      { ...env, METRICS: { writeDataPoint: (p: AnalyticsEngineDataPoint) => points.push(p) } },
    );
    expect(res.status).toBe(403);
    const refused = points.filter((p) => p.indexes?.[0] === "waiting_room");
    expect(refused.map((p) => p.blobs?.slice(1, 4))).toEqual([[room, "refused", "admission_required"]]);
  });

  it("shows the sale's waiting room to the product page of a flash-sale product", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 100 });
    const id = crypto.randomUUID().slice(0, 8);
    const sku = `QUEUE-${id}`;
    const created = await callJson(
      "/admin/api/products",
      "POST",
      {
        slug: `queue-${id}`,
        title: `Queue ${id}`,
        status: "active",
        attributes: [{ name: "collection", value: "flash-sale" }],
        variants: [{ sku, title: "One size", prices: [{ currency: "USD", amount: 5000 }] }],
      },
      ADMIN,
    );
    expect(created.status).toBe(201);
    await callJson(`/admin/api/inventory/${sku}/sale`, "PUT", { waiting_room: room }, ADMIN);
    const html = await (await call(`/p/queue-${id}`)).text();
    const json =
      /<script type="application\/json" id="product-data">(.*?)<\/script>/s.exec(html)?.[1] ?? "null";
    const data = JSON.parse(json) as { sales: Record<string, { waiting_room: string | null }> };
    expect(data.sales[sku]?.waiting_room).toBe(room);
    expect(html).toContain("data-queue");
  });
});
