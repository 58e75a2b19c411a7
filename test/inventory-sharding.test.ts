import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adjustStock, configureSale, releaseReservation, reserveStock } from "../workers/inventory/service";
import { coordinator, expectConsistent, randomSku, shard, stockSku } from "./inventory-fixtures";

const key = () => crypto.randomUUID();

async function wave(sku: string, buyers: number) {
  const results = await Promise.all(
    Array.from({ length: buyers }, () =>
      reserveStock(env, { sku, holder: `cart_${crypto.randomUUID()}`, quantity: 1, key: key() }),
    ),
  );
  return results.flatMap((r) => (r.ok ? [r.reservation.id] : []));
}

describe("sharded inventory", () => {
  it("re-shards a live SKU (1 → 4 → 2) under load without losing or duplicating a unit", async () => {
    const sku = randomSku("RESHARD");
    await stockSku(sku, 300);
    const [a] = await Promise.all([wave(sku, 200), configureSale(env, { sku, policy: {}, shards: 4 })]);
    expect(a).toHaveLength(200);
    const [b] = await Promise.all([wave(sku, 200), configureSale(env, { sku, policy: {}, shards: 2 })]);
    expect(b).toHaveLength(100);
    // Free wave A's units, many of them held by shards that are now retired.
    const released = await Promise.all(
      a.map((reservationId) => releaseReservation(env, { sku, reservationId })),
    );
    expect(released.every((r) => r.ok)).toBe(true);
    const c = await wave(sku, 300);
    expect(c).toHaveLength(200);
    const view = await expectConsistent(sku);
    expect(view).toMatchObject({ on_hand: 300, reserved: 300, sold: 0, available: 0, shard_count: 2 });
    expect(new Set([...a, ...b, ...c]).size).toBe(500);
    const retired = view.shards.filter((s) => !s.active);
    expect(retired.map((s) => s.shard)).toEqual([3, 4]);
    expect(retired.every((s) => s.available === 0)).toBe(true);
  });

  it("heals a grant whose reply was lost: the units stay in transit until the shard's next exchange", async () => {
    const sku = randomSku("LOSTGRANT");
    await stockSku(sku, 40, { shards: 2 });
    // The coordinator records a grant to shard 2 whose reply never arrived.
    await coordinator(sku).sync({ sku, shard: 0 }, { shard: 2, returnedTotal: 0, want: 5 });
    const during = await expectConsistent(sku);
    expect(during.in_transit).toBeGreaterThanOrEqual(5);
    expect(during.available).toBe(40);
    const r = await shard(sku, 2).reserve({ sku, shard: 2 }, { holder: "h", quantity: 1, key: key() });
    expect(r.ok).toBe(true);
    const after = await expectConsistent(sku);
    expect(after).toMatchObject({ in_transit: 0, available: 39, reserved: 1 });
  });

  it("delivers returned units exactly once, however often the return is replayed", async () => {
    const sku = randomSku("RETURNS");
    await stockSku(sku, 30, { shards: 2 });
    await shard(sku, 1).reserve({ sku, shard: 1 }, { holder: "h", quantity: 1, key: key() });
    // Shard 1 hands back 4 units; it re-sends its cumulative total until the coordinator acknowledges it.
    const { returnedTotal } = await shard(sku, 1).giveBack({ sku, shard: 1 }, { grantedTotal: 0, want: 4 });
    await coordinator(sku).sync({ sku, shard: 0 }, { shard: 1, returnedTotal, want: 0 });
    await coordinator(sku).sync({ sku, shard: 0 }, { shard: 1, returnedTotal, want: 0 });
    await coordinator(sku).sync({ sku, shard: 0 }, { shard: 1, returnedTotal: returnedTotal - 4, want: 0 });
    expect(await expectConsistent(sku)).toMatchObject({
      in_transit: 0,
      on_hand: 30,
      available: 29,
      reserved: 1,
    });
    const coord = await coordinator(sku).snapshot({ sku, shard: 0 });
    const one = await shard(sku, 1).snapshot({ sku, shard: 1 });
    expect(coord.available + one.available + one.reserved).toBe(30);
  });

  it("sells a unit released on a drained shard to a buyer on another shard", async () => {
    const sku = randomSku("DRAINED");
    await stockSku(sku, 2, { shards: 2 });
    const first = await shard(sku, 1).reserve({ sku, shard: 1 }, { holder: "a", quantity: 2, key: key() });
    if (!first.ok) throw new Error("expected a grant");
    // Shard 2 finds nothing: the coordinator drains shard 1 (empty) and remembers it as empty.
    expect(
      await shard(sku, 2).reserve({ sku, shard: 2 }, { holder: "b", quantity: 1, key: key() }),
    ).toMatchObject({
      ok: false,
      reason: "insufficient_stock",
    });
    await shard(sku, 1).release({ sku, shard: 1 }, { reservationId: first.reservation.id });
    expect(
      (await shard(sku, 2).reserve({ sku, shard: 2 }, { holder: "b", quantity: 2, key: key() })).ok,
    ).toBe(true);
    expect(await expectConsistent(sku)).toMatchObject({ reserved: 2, available: 0, in_transit: 0 });
  });

  it("takes stock back from shards for a negative adjustment, and refuses one below what is committed", async () => {
    const sku = randomSku("SHRINK");
    await stockSku(sku, 20, { shards: 4 });
    const held = await wave(sku, 8);
    expect(held).toHaveLength(8);
    const before = await expectConsistent(sku);
    expect(before.shards.filter((s) => s.shard > 0 && s.available > 0).length).toBeGreaterThan(0);
    expect(await adjustStock(env, { sku, delta: -13, reason: "recount", key: key() })).toMatchObject({
      ok: false,
      reason: "stock_below_committed",
      committed: 8,
    });
    expect(await adjustStock(env, { sku, delta: -12, reason: "recount", key: key() })).toMatchObject({
      ok: true,
      on_hand: 8,
    });
    expect(await expectConsistent(sku)).toMatchObject({ on_hand: 8, available: 0, reserved: 8 });
  });
});
