import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectName } from "../workers/inventory/types";
import { sha256Hex } from "../workers/lib/crypto";
import { newId, newSecret } from "../workers/lib/ids";
import { body, type CheckoutBody, checkout, readyCart, stockedSku } from "./checkout-fixtures";
import { RELEASES } from "./compat-fixtures";
import { ADMIN, callJson } from "./helpers";
import { fill, type Placeholder } from "./release/fixture-format";
import type { RpcRecord } from "./release/recorders";
import { CART_RPC, INVENTORY_RPC, WAITING_ROOM_RPC } from "./release/rpc-methods";
import { seedPromotion } from "./revenue-fixtures";

/*
 * Durable Object RPC methods must accept the arguments the previous release's callers send:
 * during a gradual rollout an old edge version calls new objects (and objects on different
 * versions call each other). Each call the previous release made is replayed, with its
 * arguments exactly as sent, in a world built by the current code that gives its ids meaning.
 */

type World = Partial<Record<Placeholder, string>>;

/** A SKU with stock, sharded like the call's target, and a reservation in the state the call needs. */
async function inventoryWorld(call: RpcRecord): Promise<World> {
  const sku = `COMPAT-W-${crypto.randomUUID().slice(0, 8)}`;
  const target = (call.args[0] as { shard: number }).shard;
  const peer = call.method === "sync" ? (call.args[1] as { shard: number }).shard : 0;
  const shards = Math.max(target, peer);
  const coordinator = env.INVENTORY.getByName(objectName({ sku, shard: 0 }));
  if (shards > 0) await coordinator.configure({ sku, shard: 0 }, { policy: {}, shards: Math.max(2, shards) });
  await coordinator.changeStock(
    { sku, shard: 0 },
    { mode: "set", value: 20, reason: "world", key: newId("req") },
  );
  const world: World = {
    sku,
    cart_id: newId("cart"),
    checkout_id: newId("chk"),
    order_id: newId("ord"),
    line_id: newId("line"),
  };
  if (["resize", "extend", "release", "commit", "returnCommitted"].includes(call.method)) {
    const stub = env.INVENTORY.getByName(objectName({ sku, shard: target }));
    const held = await stub.reserve(
      { sku, shard: target },
      { holder: "world", quantity: 1, key: newId("req") },
    );
    if (!held.ok) throw new Error(`world reservation refused: ${held.reason}`);
    world.reservation_id = held.reservation.id;
    if (call.method === "returnCommitted") {
      const committed = await stub.commit(
        { sku, shard: target },
        { reservationId: held.reservation.id, orderId: "ord_world" },
      );
      if (!committed.ok) throw new Error(`world commit refused: ${committed.reason}`);
    }
  }
  return world;
}

const CHECKOUT_METHODS = ["getCheckout", "checkoutPayment", "applyPaymentOutcome"];

/** A ready cart (line, email, address, shipping, a promotion), mid-checkout for the checkout methods. */
async function cartWorld(call: RpcRecord): Promise<World> {
  if (call.method === "create") return { cart_id: newId("cart"), digest: await sha256Hex(newSecret()) };
  const sku = await stockedSku(20);
  const { code } = await seedPromotion({ type: "percentage", percentage_bp: 1000 });
  const cart = await readyCart([{ sku, quantity: 1 }], { promotion: code });
  const view = (await (await callJson(`/api/carts/${cart.id}`, "GET", undefined, cart.headers)).json()) as {
    lines: { id: string }[];
  };
  const world: World = {
    sku,
    promotion_code: code,
    cart_id: cart.id,
    digest: await sha256Hex(cart.token),
    line_id: view.lines[0]?.id as string,
  };
  if (CHECKOUT_METHODS.includes(call.method)) {
    const started = await body<CheckoutBody>(await checkout(cart));
    world.checkout_id = started.id;
    world.payment_id = started.payment?.payment_id as string;
  }
  return world;
}

/** A room admitting a visitor a minute, with one ticket in it. */
async function roomWorld(): Promise<World> {
  const room = `compat-w-${crypto.randomUUID().slice(0, 8)}`;
  const configured = await callJson(
    `/admin/api/waiting-rooms/${room}`,
    "PUT",
    { admit_per_minute: 1 },
    ADMIN,
  );
  if (configured.status !== 200) throw new Error(`world room refused: ${await configured.text()}`);
  const joined = await env.WAITING_ROOM.getByName(`room:${room}`).join({ visitor: null });
  if (!joined.ok) throw new Error(`world ticket refused: ${joined.reason}`);
  return { room, ticket_id: joined.ticket.ticket, digest: await sha256Hex(newSecret()) };
}

const SURFACES: Record<string, readonly string[]> = {
  CartObject: CART_RPC,
  InventoryObject: INVENTORY_RPC,
  WaitingRoomObject: WAITING_ROOM_RPC,
};

function stubFor(call: RpcRecord, name: string): Callable {
  if (call.class === "CartObject") return env.CART.getByName(name) as unknown as Callable;
  if (call.class === "InventoryObject") return env.INVENTORY.getByName(name) as unknown as Callable;
  if (call.class === "WaitingRoomObject") return env.WAITING_ROOM.getByName(name) as unknown as Callable;
  throw new Error(`${call.class} is not a Durable Object class any more`);
}

function worldFor(call: RpcRecord): Promise<World> {
  if (call.class === "CartObject") return cartWorld(call);
  if (call.class === "InventoryObject") return inventoryWorld(call);
  return roomWorld();
}

type Callable = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** For methods answering plain data (no `ok`): fields their callers read, by `Class.method`. */
const PLAIN_DATA_FIELDS: Record<string, string[]> = {
  "CartObject.create": ["id", "currency", "lines", "totals"],
  "InventoryObject.applyConfig": ["returnedTotal"],
  "InventoryObject.configure": ["policy", "shard_count"],
  "InventoryObject.getPolicy": ["reservation_ttl_seconds", "reserve_on_add_to_cart"],
  "InventoryObject.giveBack": ["returnedTotal", "remaining"],
  "InventoryObject.routing": ["shardCount"],
  "InventoryObject.skuView": ["on_hand", "available", "shards"],
  "InventoryObject.snapshot": ["on_hand", "available", "reserved", "sold"],
  "InventoryObject.sync": ["grantedTotal", "returnedSeen", "exhausted"],
  "WaitingRoomObject.configure": ["room", "admit_per_minute", "joined", "admitted"],
};

describe.each(RELEASES)("RPC calls made by release $release", ({ rpc }) => {
  it("name only methods the objects still have", () => {
    for (const call of rpc) {
      expect(SURFACES[call.class], `${call.class}.${call.method}`).toContain(call.method);
    }
  });

  it.each(rpc.map((call) => [`${call.class}.${call.method}`, call] as const))(
    "%s accepts the arguments as that release sent them",
    async (_name, call) => {
      const world = await worldFor(call);
      const stub = stubFor(call, fill(call.object, world));
      const method = stub[call.method];
      if (!method) throw new Error(`${call.class}.${call.method} is gone`);
      const result = await method(...fill(call.args, world));
      if (call.ok === null) {
        // Plain data: it still carries the fields that release's callers read.
        expect(Object.keys(result as object)).toEqual(
          expect.arrayContaining(PLAIN_DATA_FIELDS[`${call.class}.${call.method}`] ?? ["(unlisted method)"]),
        );
      }
      if (call.ok !== null) {
        const outcome = result as { ok: boolean; reason?: string };
        expect(outcome.ok, `${call.method} refused: ${outcome.reason}`).toBe(call.ok);
      }
    },
  );
});
