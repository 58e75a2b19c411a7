import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { CartObject } from "../../durable-objects/cart";
import { CART_STORAGE_MIGRATIONS } from "../../durable-objects/cart-storage";
import { InventoryObject } from "../../durable-objects/inventory";
import { INVENTORY_STORAGE_MIGRATIONS } from "../../durable-objects/inventory-storage";
import { WAITING_ROOM_STORAGE_MIGRATIONS, WaitingRoomObject } from "../../durable-objects/waiting-room";
import { handleCatalogEvents } from "../../workers/catalog/consumer";
import { EVENT_VERSIONS } from "../../workers/events/versions";
import { createFulfilmentConsumer } from "../../workers/fulfilment/consumer";
import { objectName } from "../../workers/inventory/types";
import { sha256Hex } from "../../workers/lib/crypto";
import { receiverFetch, recordingNotifier, WEBHOOK_SECRET } from "../events-fixtures";
import { ADMIN, callJson } from "../helpers";
import { US_ADDRESS } from "../revenue-fixtures";
import { placeholders, type ReleaseFixtures, type StorageDump, type StorageFixture } from "./fixture-format";
import { record } from "./recorders";
import { CART_RPC, INVENTORY_RPC, WAITING_ROOM_RPC } from "./rpc-methods";

declare module "vitest" {
  interface TaskMeta {
    releaseFixtures?: ReleaseFixtures;
  }
}

/*
 * Captures this release's compatibility fixtures (run by `npm run release:fixtures`, never by
 * `vitest run`): it drives a shop through the public API while recording every D1 statement,
 * queue message and Durable Object RPC the code makes, then dumps the storage of the objects it
 * used. The next release's compat-*.test.ts run all of it against their code.
 */

const id = crypto.randomUUID().replaceAll("-", "").slice(0, 8).toUpperCase();
const REG = `COMPAT-REG-${id}`;
const FLASH = `COMPAT-FLASH-${id}`;
const PROMO = `COMPATPROMO${id}`;
const ROOM = `compat-room-${id.toLowerCase()}`;

async function expectStatus<T>(res: Response, status: number): Promise<T> {
  if (res.status !== status)
    throw new Error(`${res.url}: expected ${status}, got ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const admin = <T>(path: string, method: string, body: unknown, status = 200) =>
  callJson(path, method, body, ADMIN).then((res) => expectStatus<T>(res, status));

interface Cart {
  id: string;
  token: string;
  headers: Record<string, string>;
}

async function openCart(lines: [string, number][], promotion = true): Promise<Cart> {
  const created = await expectStatus<{ id: string; token: string }>(
    await callJson("/api/carts", "POST", { currency: "USD" }),
    201,
  );
  const cart = { ...created, headers: { "x-cart-token": created.token } };
  for (const [sku, quantity] of lines) {
    await expectStatus(
      await callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity }, cart.headers),
      200,
    );
  }
  const email = `compat-${crypto.randomUUID().slice(0, 8)}@example.com`;
  await expectStatus(await callJson(`/api/carts/${cart.id}/email`, "PUT", { email }, cart.headers), 200);
  await expectStatus(
    await callJson(`/api/carts/${cart.id}/shipping-address`, "PUT", US_ADDRESS, cart.headers),
    200,
  );
  await expectStatus(
    await callJson(`/api/carts/${cart.id}/shipping-method`, "PUT", { id: "us_standard" }, cart.headers),
    200,
  );
  if (promotion) {
    await expectStatus(
      await callJson(`/api/carts/${cart.id}/promotions`, "POST", { code: PROMO }, cart.headers),
      200,
    );
  }
  return cart;
}

interface Checkout {
  id: string;
  status: string;
  order: { id: string } | null;
}

async function startCheckout(cart: Cart): Promise<Checkout> {
  const res = await callJson(
    `/api/carts/${cart.id}/checkout`,
    "POST",
    {},
    {
      ...cart.headers,
      "idempotency-key": crypto.randomUUID(),
    },
  );
  return expectStatus<Checkout>(res, 201);
}

async function pay(cart: Cart, checkout: Checkout): Promise<string> {
  const res = await callJson(
    `/api/checkouts/${checkout.id}/confirm`,
    "POST",
    { card_number: "4242424242424242" },
    cart.headers,
  );
  const paid = await expectStatus<Checkout>(res, 200);
  if (!paid.order) throw new Error(`checkout ${checkout.id} did not complete: ${paid.status}`);
  return paid.order.id;
}

async function dumpObject(
  stub:
    | DurableObjectStub<CartObject>
    | DurableObjectStub<InventoryObject>
    | DurableObjectStub<WaitingRoomObject>,
  name: string,
): Promise<StorageDump> {
  return runInDurableObject(stub, async (_instance, state) => {
    const sql = state.storage.sql;
    const schema = sql
      .exec<{ type: string; name: string; sql: string }>(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY rowid",
      )
      .toArray();
    return {
      object: name,
      alarm: await state.storage.getAlarm(),
      tables: schema
        .filter((entry) => entry.type === "table")
        .map((table) => ({
          name: table.name,
          sql: table.sql,
          rows: sql.exec(`SELECT * FROM "${table.name}"`).toArray() as Record<string, SqlStorageValue>[],
        })),
      indexes: schema.filter((entry) => entry.type === "index").map((index) => index.sql),
    };
  });
}

const waitFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("captures this release's events, D1 queries, RPC calls and object storage", async ({ task }) => {
  const recording = record({
    CartObject: { prototype: CartObject.prototype, methods: CART_RPC },
    InventoryObject: { prototype: InventoryObject.prototype, methods: INVENTORY_RPC },
    WaitingRoomObject: { prototype: WaitingRoomObject.prototype, methods: WAITING_ROOM_RPC },
  });
  const capturedAt = Date.now();

  // Catalog: a category and two products (catalog.changed for both entities).
  const category = await admin<{ id: string }>(
    "/admin/api/categories",
    "POST",
    { slug: `compat-${id.toLowerCase()}`, name: "Compat", parent_id: null },
    201,
  );
  for (const [sku, amount] of [
    [REG, 2500],
    [FLASH, 1500],
  ] as const) {
    await admin(
      "/admin/api/products",
      "POST",
      {
        slug: sku.toLowerCase(),
        title: `Product ${sku}`,
        brand: "Compat",
        status: "active",
        popularity: 1,
        category_ids: [category.id],
        media: [],
        attributes: [],
        variants: [{ sku, title: "Default", options: { size: "M" }, prices: [{ currency: "USD", amount }] }],
      },
      201,
    );
  }

  // Inventory: a plain SKU and a sharded flash-sale SKU that reserves at add-to-cart.
  await admin(`/admin/api/inventory/${REG}`, "PUT", { on_hand: 40 });
  await admin(`/admin/api/inventory/${REG}/adjustments`, "POST", { delta: -2, reason: "damaged" }, 201);
  await admin(`/admin/api/inventory/${FLASH}/sale`, "PUT", {
    reserve_on_add_to_cart: true,
    reservation_ttl_seconds: 900,
    per_customer_limit: 6,
    shards: 2,
  });
  await admin(`/admin/api/inventory/${FLASH}`, "PUT", { on_hand: 20 });
  await admin("/admin/api/promotions", "POST", { code: PROMO, type: "percentage", percentage_bp: 1000 }, 201);

  // Cart A: every cart mutation, a checkout, a payment, then the order's whole lifecycle.
  const a = await openCart([
    [REG, 1],
    [FLASH, 2],
  ]);
  const cartA = await expectStatus<{ lines: { id: string; sku: string }[] }>(
    await callJson(`/api/carts/${a.id}`, "GET", undefined, a.headers),
    200,
  );
  const lineId = (sku: string) => cartA.lines.find((line) => line.sku === sku)?.id;
  await callJson(`/api/carts/${a.id}/lines/${lineId(FLASH)}`, "PATCH", { quantity: 3 }, a.headers);
  await callJson(`/api/carts/${a.id}/lines/${lineId(REG)}`, "DELETE", undefined, a.headers);
  await callJson(`/api/carts/${a.id}/lines`, "POST", { sku: REG, quantity: 2 }, a.headers);
  await callJson(`/api/carts/${a.id}/promotions/${PROMO}`, "DELETE", undefined, a.headers);
  await callJson(`/api/carts/${a.id}/promotions`, "POST", { code: PROMO }, a.headers);
  const checkoutA = await startCheckout(a);
  await callJson(`/api/checkouts/${checkoutA.id}`, "GET", undefined, a.headers);
  const orderA = await pay(a, checkoutA);
  for (const fulfilment of [
    { status: "fulfilling" },
    { status: "shipped", tracking: { carrier: "UPS", number: "1Z999", url: "https://ups.example/1Z999" } },
    { status: "delivered" },
  ]) {
    await admin(`/admin/api/orders/${orderA}/fulfilments`, "POST", fulfilment);
  }
  await admin(
    `/admin/api/orders/${orderA}/refunds`,
    "POST",
    { amount: { amount: 500, currency: "USD" } },
    201,
  );

  // Cart B: paid, then cancelled (restock and refund).
  const b = await openCart([[REG, 1]], false);
  const orderB = await pay(b, await startCheckout(b));
  await admin(`/admin/api/orders/${orderB}/cancel`, "POST", { reason: "customer changed their mind" });

  // Stock moves that exercise the shard protocol: a manual hold, a force release, a steal.
  const hold = await admin<{ id: string }>(
    `/admin/api/inventory/${FLASH}/reservations`,
    "POST",
    { holder: "ops-hold", quantity: 1 },
    201,
  );
  await callJson(`/admin/api/inventory/${FLASH}/reservations/${hold.id}`, "DELETE", undefined, ADMIN);
  await admin(`/admin/api/inventory/${FLASH}`, "PUT", { on_hand: 8 }); // below the coordinator's pool: steals
  await admin(`/admin/api/inventory/${FLASH}/sale`, "PUT", { per_customer_limit: 5 });
  await callJson(`/admin/api/inventory/${FLASH}`, "GET", undefined, ADMIN);

  // A waiting room admitting one visitor a minute: the first is admitted, two wait in line.
  await admin(`/admin/api/waiting-rooms/${ROOM}`, "PUT", { admit_per_minute: 1, token_ttl_seconds: 900 });
  const tickets: StorageFixture["tickets"] = [];
  for (let i = 0; i < 3; i++) {
    const visitor = crypto.randomUUID().replaceAll("-", "");
    const joined = await callJson(`/api/waiting-rooms/${ROOM}/tickets`, "POST", { visitor_id: visitor });
    const ticket = await expectStatus<{ status_url: string }>(joined, 201);
    const status = await expectStatus<{ status: string; position: number }>(
      await callJson(ticket.status_url, "GET", undefined),
      200,
    );
    tickets.push({
      room: ROOM,
      status_url: ticket.status_url,
      status: status.status,
      position: status.position,
    });
  }
  await callJson(`/admin/api/waiting-rooms/${ROOM}`, "GET", undefined, ADMIN);

  // Carts C and D stay mid-checkout: their storage is what the next release wakes up to.
  const c = await openCart([
    [REG, 2],
    [FLASH, 1],
  ]);
  const checkoutC = await startCheckout(c);
  const d = await openCart(
    [
      [FLASH, 2],
      [REG, 1],
    ],
    false,
  );
  const checkoutD = await startCheckout(d);

  // A malformed message, so the dead-letter envelope is captured as the consumers send it.
  const bogus = createMessageBatch<unknown>("popcart-catalog-events", [
    {
      id: `compat-${id}`,
      timestamp: new Date(),
      attempts: 1,
      body: { type: "catalog.changed", bogus: true },
    },
  ]);
  const bogusCtx = createExecutionContext();
  await handleCatalogEvents(bogus, env);
  await getQueueResult(bogus, bogusCtx);

  // Objects publish inventory.level off the request path; give them a moment.
  await waitFor(1500);

  // The fulfilment worker's queries: feed it the order events exactly as they were sent.
  const orderEvents = recording.messages.filter((message) => {
    const type = (message as { type?: string }).type ?? "";
    return type.startsWith("order.") || type.startsWith("fulfilment.");
  });
  const consume = createFulfilmentConsumer({ notifier: recordingNotifier(), fetchFn: receiverFetch([]) });
  const fulfilmentBatch = createMessageBatch<unknown>(
    "popcart-order-events",
    orderEvents.map((body, index) => ({
      id: `compat-${id}-${index}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  );
  const fulfilmentCtx = createExecutionContext();
  await consume(fulfilmentBatch, {
    DB: env.DB,
    DEAD_LETTERS: env.DEAD_LETTERS,
    FULFILMENT_WEBHOOK_URL: "http://popcart.test/dev/3pl/orders",
    FULFILMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  const fulfilled = await getQueueResult(fulfilmentBatch, fulfilmentCtx);
  expect(fulfilled.explicitAcks).toHaveLength(orderEvents.length);
  await waitFor(2500); // let the edge's own queue consumers finish their D1 writes

  recording.stop();

  const storage: StorageDump[] = [];
  for (const cartId of [c.id, d.id]) storage.push(await dumpObject(env.CART.getByName(cartId), cartId));
  const inventoryObjects = [
    objectName({ sku: REG, shard: 0 }),
    ...[0, 1, 2].map((shard) => objectName({ sku: FLASH, shard })),
  ];
  for (const name of inventoryObjects) storage.push(await dumpObject(env.INVENTORY.getByName(name), name));
  storage.push(await dumpObject(env.WAITING_ROOM.getByName(`room:${ROOM}`), `room:${ROOM}`));

  const migrations = [];
  for (const migration of env.TEST_MIGRATIONS) {
    migrations.push({ name: migration.name, sha256: await sha256Hex(migration.queries.join("\n")) });
  }
  const fixtures: ReleaseFixtures = {
    manifest: {
      format: 1,
      captured_at: new Date(capturedAt).toISOString(),
      event_versions: EVENT_VERSIONS,
      storage_migrations: {
        cart: [...CART_STORAGE_MIGRATIONS],
        inventory: INVENTORY_STORAGE_MIGRATIONS.map((step) => [...step]),
        waiting_room: WAITING_ROOM_STORAGE_MIGRATIONS.map((step) => [...step]),
      },
      d1_migrations: migrations,
    },
    events: recording.messages,
    d1: recording.d1,
    rpc: placeholders(recording.rpc, { skus: [REG, FLASH], promotionCodes: [PROMO], rooms: [ROOM] }),
    storage: {
      captured_at: capturedAt,
      carts: [
        { cart_id: c.id, token: c.token, checkout_id: checkoutC.id, role: "pay" },
        { cart_id: d.id, token: d.token, checkout_id: checkoutD.id, role: "expire" },
      ],
      tickets,
      objects: storage,
    },
  };
  const types = new Set(recording.messages.map((m) => (m as { type?: string }).type));
  for (const type of Object.keys(EVENT_VERSIONS)) expect(types, `no ${type} event captured`).toContain(type);
  task.meta.releaseFixtures = fixtures;
});
