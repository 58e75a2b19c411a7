import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CART_STORAGE_MIGRATIONS } from "../durable-objects/cart-storage";
import { INVENTORY_STORAGE_MIGRATIONS } from "../durable-objects/inventory-storage";
import { WAITING_ROOM_STORAGE_MIGRATIONS } from "../durable-objects/waiting-room";
import { productKey } from "../workers/catalog/kv-keys";
import worker from "../workers/edge/index";
import { objectName } from "../workers/inventory/types";
import { RELEASES, replayD1, restoreObject, storageVersion } from "./compat-fixtures";
import { callJson, eventually } from "./helpers";

/*
 * The previous release's world, woken by this one: its D1 history replayed against the
 * current schema, then the objects it left mid-flight (carts in checkout, sharded stock with
 * live reservations) restored from their stored rows and woken with the current code.
 */

type Row = Record<string, SqlStorageValue>;

const cartGet = (id: string, token: string, path = "") =>
  callJson(`/api/carts/${id}${path}`, "GET", undefined, { "x-cart-token": token });

describe.each(RELEASES)("release $release's world", ({ d1, events, storage }) => {
  const inventoryObjects = storage.objects.filter((dump) => dump.object.startsWith("sku:"));
  const rows = (object: string, table: string): Row[] =>
    storage.objects.find((dump) => dump.object === object)?.tables.find((t) => t.name === table)?.rows ?? [];
  const skus = [...new Set(inventoryObjects.map((dump) => dump.object.slice(4).split("#")[0] as string))];

  async function expectStockConsistent() {
    for (const sku of skus) {
      const view = await env.INVENTORY.getByName(objectName({ sku, shard: 0 })).skuView({ sku, shard: 0 });
      expect(view.available + view.reserved + view.sold, sku).toBe(view.on_hand);
      for (const shard of view.shards) {
        const report = await env.INVENTORY.getByName(objectName({ sku, shard: shard.shard })).checkInvariants(
          {
            sku,
            shard: shard.shard,
          },
        );
        expect(report.violations, `${sku}#${shard.shard}`).toEqual([]);
      }
    }
  }

  it("every D1 statement it ran still runs against the current schema, reads keep their columns", async () => {
    expect(d1.length).toBeGreaterThan(0);
    expect(await replayD1(d1)).toEqual([]);
  });

  it("its catalog events re-project its products from the replayed D1", async () => {
    const changes = (
      events as { type?: string; entity?: string; slugs?: string[]; revision?: number }[]
    ).filter((event) => event.type === "catalog.changed");
    const batch = createMessageBatch<unknown>(
      "popcart-catalog-events",
      changes.map((body, index) => ({ id: `world-${index}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(changes.length);
    for (const change of changes.filter((event) => event.entity === "product")) {
      const document = await env.CATALOG_KV.get<{ revision: number }>(
        productKey(change.slugs?.[0] ?? ""),
        "json",
      );
      expect(document?.revision).toBeGreaterThanOrEqual(change.revision ?? 0);
    }
  });

  it("its stock objects wake with their storage migrated forward, counters and ledgers intact", async () => {
    const shift = Date.now() - storage.captured_at;
    for (const dump of inventoryObjects) {
      const stub = env.INVENTORY.getByName(dump.object);
      await restoreObject(stub, dump, shift);
      expect(await storageVersion(stub), dump.object).toBe(INVENTORY_STORAGE_MIGRATIONS.length);
    }
    for (const dump of inventoryObjects) {
      const [sku, shard] = dump.object.slice(4).split("#");
      const address = { sku: sku as string, shard: Number(shard ?? 0) };
      const snapshot = await env.INVENTORY.getByName(dump.object).snapshot(address);
      const state = rows(dump.object, "state")[0] as Row;
      expect([snapshot.on_hand, snapshot.reserved, snapshot.sold], dump.object).toEqual([
        state.on_hand,
        state.reserved,
        state.sold,
      ]);
      const held = rows(dump.object, "reservations").filter((row) => row.status === "held");
      expect(snapshot.reservations.map((r) => r.id).sort()).toEqual(held.map((row) => row.id).sort());
    }
    await expectStockConsistent();
  });

  it("its carts wake with their storage migrated forward", async () => {
    const shift = Date.now() - storage.captured_at;
    for (const cart of storage.carts) {
      const dump = storage.objects.find((object) => object.object === cart.cart_id);
      if (!dump) throw new Error(`no storage for ${cart.cart_id}`);
      let cartShift = shift;
      if (cart.role === "expire") {
        // This cart slept through its payment window: wake it a minute after the window closed.
        const checkout = rows(cart.cart_id, "checkouts").find((row) => row.id === cart.checkout_id);
        cartShift = Date.now() - ((checkout?.expires_at as number) + 60_000);
      }
      const stub = env.CART.getByName(cart.cart_id);
      await restoreObject(stub, dump, cartShift);
      expect(await storageVersion(stub), cart.cart_id).toBe(CART_STORAGE_MIGRATIONS.length);
    }
  });

  it("its waiting room wakes migrated forward and answers each ticket as it did", async () => {
    const shift = Date.now() - storage.captured_at;
    const rooms = storage.objects.filter((dump) => dump.object.startsWith("room:"));
    expect(rooms.length).toBeGreaterThan(0);
    for (const dump of rooms) {
      const stub = env.WAITING_ROOM.getByName(dump.object);
      await restoreObject(stub, dump, shift);
      expect(await storageVersion(stub), dump.object).toBe(WAITING_ROOM_STORAGE_MIGRATIONS.length);
    }
    for (const ticket of storage.tickets) {
      const res = await callJson(ticket.status_url, "GET", undefined);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; position: number };
      expect([body.status, body.position]).toEqual([ticket.status, ticket.position]);
    }
  });

  it("a cart it left awaiting payment shows the same lines and completes its order when paid", async () => {
    const paying = storage.carts.find((cart) => cart.role === "pay");
    if (!paying) throw new Error("fixture has no cart to pay");
    const cartRes = await cartGet(paying.cart_id, paying.token);
    expect(cartRes.status).toBe(200);
    const cart = (await cartRes.json()) as {
      status: string;
      lines: { id: string; sku: string; quantity: number; reservation: { id: string } | null }[];
    };
    expect(cart.status).toBe("checking_out");
    const stored = rows(paying.cart_id, "lines");
    expect(
      cart.lines.map((line) => [line.id, line.sku, line.quantity, line.reservation?.id ?? null]).sort(),
    ).toEqual(stored.map((row) => [row.id, row.sku, row.quantity, row.reservation_id]).sort());

    const checkoutPath = `/api/checkouts/${paying.checkout_id}`;
    const headers = { "x-cart-token": paying.token };
    const before = (await (await callJson(checkoutPath, "GET", undefined, headers)).json()) as {
      status: string;
    };
    expect(before.status).toBe("awaiting_payment");
    const paid = await callJson(
      `${checkoutPath}/confirm`,
      "POST",
      { card_number: "4242424242424242" },
      headers,
    );
    expect(paid.status).toBe(200);
    const checkout = (await paid.json()) as {
      status: string;
      totals: { total: { amount: number } };
      order: { id: string; lookup_token: string } | null;
    };
    expect(checkout.status).toBe("completed");
    const order = await callJson(
      `/api/orders/${checkout.order?.id}?token=${checkout.order?.lookup_token}`,
      "GET",
      undefined,
    );
    expect(order.status).toBe(200);
    expect(((await order.json()) as { total: { amount: number } }).total.amount).toBe(
      checkout.totals.total.amount,
    );
    await expectStockConsistent();
  });

  it("a cart that slept through its payment window expires the checkout on its alarm and gives the stock back", async () => {
    const expiring = storage.carts.find((cart) => cart.role === "expire");
    if (!expiring) throw new Error("fixture has no cart to expire");
    const checkoutRow = rows(expiring.cart_id, "checkouts").find((row) => row.id === expiring.checkout_id);
    const reservations = JSON.parse(String(checkoutRow?.reservations)) as {
      sku: string;
      reservation_id: string;
      source: "line" | "checkout";
    }[];
    // Its alarm was due on wake, so it has run (or is about to): wait for the outcome.
    const checkout = await eventually(async () => {
      const res = await callJson(`/api/checkouts/${expiring.checkout_id}`, "GET", undefined, {
        "x-cart-token": expiring.token,
      });
      const body = (await res.json()) as { status: string; failure: { code: string } | null };
      return body.status === "expired" ? body : null;
    });
    expect(checkout.failure?.code).toBe("payment_window_expired");
    const cart = (await (await cartGet(expiring.cart_id, expiring.token)).json()) as { status: string };
    expect(cart.status).toBe("open");
    expect(reservations.map((r) => r.source).sort()).toEqual(expect.arrayContaining(["checkout", "line"]));
    // Holds the checkout took are released; a line's own flash-sale hold stays with the open cart.
    for (const reservation of reservations) {
      const view = await env.INVENTORY.getByName(objectName({ sku: reservation.sku, shard: 0 })).skuView({
        sku: reservation.sku,
        shard: 0,
      });
      const live = view.reservations.map((r) => r.id);
      if (reservation.source === "line") expect(live).toContain(reservation.reservation_id);
      else expect(live).not.toContain(reservation.reservation_id);
    }
    await expectStockConsistent();
  });
});
