import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  commitReservation,
  extendReservation,
  getInventory,
  releaseReservation,
  reserveStock,
  resizeReservation,
  returnCommitted,
} from "../workers/inventory/service";
import { coordinator, elapse, expectConsistent, randomSku, stockSku } from "./inventory-fixtures";

const key = () => crypto.randomUUID();
const holder = () => `cart_${crypto.randomUUID()}`;

async function storm(sku: string, buyers: number) {
  const results = await Promise.all(
    Array.from({ length: buyers }, () =>
      reserveStock(env, { sku, holder: holder(), quantity: 1, key: key() }),
    ),
  );
  return results.filter((r) => r.ok).length;
}

describe("inventory reservations", () => {
  it("grants exactly 100 of 500 concurrent single-unit reservations against stock 100 (one object)", async () => {
    const sku = randomSku("STORM1");
    await stockSku(sku, 100);
    expect(await storm(sku, 500)).toBe(100);
    const view = await expectConsistent(sku);
    expect(view).toMatchObject({ on_hand: 100, reserved: 100, available: 0, sold: 0 });
  });

  it("grants exactly 100 of 500 concurrent reservations when the SKU is spread over 4 shards", async () => {
    const sku = randomSku("STORM4");
    await stockSku(sku, 100, { shards: 4 });
    expect(await storm(sku, 500)).toBe(100);
    const view = await expectConsistent(sku);
    expect(view).toMatchObject({ on_hand: 100, reserved: 100, available: 0, in_transit: 0 });
    expect(view.shards.filter((s) => s.reserved > 0).length).toBeGreaterThan(1);
  });

  it("sells every unit of a sharded SKU when demand exceeds stock, with multi-unit requests", async () => {
    const sku = randomSku("MULTI");
    await stockSku(sku, 37, { shards: 3 });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        reserveStock(env, { sku, holder: holder(), quantity: (i % 3) + 1, key: key() }),
      ),
    );
    const granted = results.reduce((t, r) => t + (r.ok ? r.reservation.quantity : 0), 0);
    const view = await expectConsistent(sku);
    expect(granted).toBe(view.reserved);
    // Nothing is released here, so a refusal of q units means fewer than q were left anywhere.
    const refused = results.flatMap((r, i) => (r.ok ? [] : [(i % 3) + 1]));
    expect(refused.length).toBeGreaterThan(0);
    expect(view.available).toBeLessThan(Math.min(...refused));
    expect(granted + view.available).toBe(37);
  });

  it("returns the original result for a retried key and changes nothing", async () => {
    const sku = randomSku("IDEM");
    await stockSku(sku, 5);
    const k = key();
    const h = holder();
    const first = await reserveStock(env, { sku, holder: h, quantity: 2, key: k });
    const again = await reserveStock(env, { sku, holder: h, quantity: 2, key: k });
    expect(first.ok).toBe(true);
    expect(again).toEqual(first);
    expect((await getInventory(env, sku)).reserved).toBe(2);
    const [a, b] = await Promise.all([
      reserveStock(env, { sku, holder: h, quantity: 1, key: "same" }),
      reserveStock(env, { sku, holder: h, quantity: 1, key: "same" }),
    ]);
    expect(a).toEqual(b);
    expect((await getInventory(env, sku)).reserved).toBe(3);
  });

  it("refuses a reservation for an unknown SKU as insufficient stock", async () => {
    const result = await reserveStock(env, {
      sku: randomSku("NONE"),
      holder: holder(),
      quantity: 1,
      key: key(),
    });
    expect(result).toEqual({ ok: false, reason: "insufficient_stock", available: 0 });
  });

  it("commits, refuses to commit twice to another order, and returns a cancelled order's units", async () => {
    const sku = randomSku("COMMIT");
    await stockSku(sku, 3);
    const r = await reserveStock(env, { sku, holder: holder(), quantity: 2, key: key() });
    if (!r.ok) throw new Error("expected a grant");
    const id = r.reservation.id;
    expect(await commitReservation(env, { sku, reservationId: id, orderId: "ord_1" })).toEqual({ ok: true });
    expect(await commitReservation(env, { sku, reservationId: id, orderId: "ord_1" })).toEqual({ ok: true });
    expect(await commitReservation(env, { sku, reservationId: id, orderId: "ord_2" })).toMatchObject({
      ok: false,
    });
    expect(await releaseReservation(env, { sku, reservationId: id })).toEqual({
      ok: false,
      reason: "already_committed",
    });
    expect(await getInventory(env, sku)).toMatchObject({ sold: 2, available: 1 });
    const k = key();
    expect(await returnCommitted(env, { sku, reservationId: id, reason: "order cancelled", key: k })).toEqual(
      {
        ok: true,
      },
    );
    expect(await returnCommitted(env, { sku, reservationId: id, reason: "order cancelled", key: k })).toEqual(
      {
        ok: true,
      },
    );
    const view = await expectConsistent(sku);
    expect(view).toMatchObject({ sold: 0, available: 3 });
    expect(view.adjustments.some((a) => a.kind === "order_return" && a.reason.includes(id))).toBe(true);
  });

  it("resizes a held reservation atomically and refuses growth beyond stock", async () => {
    const sku = randomSku("RESIZE");
    await stockSku(sku, 5);
    const r = await reserveStock(env, { sku, holder: holder(), quantity: 2, key: key() });
    if (!r.ok) throw new Error("expected a grant");
    const grown = await resizeReservation(env, {
      sku,
      reservationId: r.reservation.id,
      quantity: 5,
      key: key(),
    });
    expect(grown).toMatchObject({ ok: true, reservation: { quantity: 5 } });
    const tooBig = await resizeReservation(env, {
      sku,
      reservationId: r.reservation.id,
      quantity: 6,
      key: key(),
    });
    expect(tooBig).toMatchObject({ ok: false, reason: "insufficient_stock" });
    await resizeReservation(env, { sku, reservationId: r.reservation.id, quantity: 1, key: key() });
    expect(await expectConsistent(sku)).toMatchObject({ reserved: 1, available: 4 });
  });

  it("expires a held reservation through the alarm, even when the alarm fires twice", async () => {
    const sku = randomSku("ALARM");
    await stockSku(sku, 4);
    const r = await reserveStock(env, { sku, holder: holder(), quantity: 3, ttlSeconds: 1, key: key() });
    if (!r.ok) throw new Error("expected a grant");
    const stub = coordinator(sku);
    await elapse(stub, 1100);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runDurableObjectAlarm(stub);
    const view = await expectConsistent(sku);
    expect(view).toMatchObject({ reserved: 0, available: 4 });
    expect(await commitReservation(env, { sku, reservationId: r.reservation.id, orderId: "ord_x" })).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("refuses to commit a reservation whose deadline passed before its alarm ran", async () => {
    const sku = randomSku("LATE");
    await stockSku(sku, 1);
    const r = await reserveStock(env, { sku, holder: holder(), quantity: 1, ttlSeconds: 1, key: key() });
    if (!r.ok) throw new Error("expected a grant");
    await elapse(coordinator(sku), 1100);
    expect(
      await commitReservation(env, { sku, reservationId: r.reservation.id, orderId: "ord_late" }),
    ).toEqual({
      ok: false,
      reason: "expired",
    });
    expect(await extendReservation(env, { sku, reservationId: r.reservation.id, ttlSeconds: 60 })).toEqual({
      ok: false,
      reason: "not_held",
    });
    // The unit is sellable again to someone else.
    expect((await reserveStock(env, { sku, holder: holder(), quantity: 1, key: key() })).ok).toBe(true);
    await expectConsistent(sku);
  });

  it("keeps expiry after the object is evicted and restarted", async () => {
    const sku = randomSku("EVICT");
    await stockSku(sku, 2);
    const r = await reserveStock(env, { sku, holder: holder(), quantity: 2, ttlSeconds: 1, key: key() });
    if (!r.ok) throw new Error("expected a grant");
    const stub = coordinator(sku);
    await evictDurableObject(stub);
    const alarmAt = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarmAt).not.toBeNull();
    await elapse(stub, 1100);
    await runDurableObjectAlarm(stub);
    expect(await expectConsistent(sku)).toMatchObject({ reserved: 0, available: 2 });
    // Whatever else the alarm still has to do (publishing), running it again expires nothing twice.
    await runDurableObjectAlarm(stub);
    expect(await expectConsistent(sku)).toMatchObject({ reserved: 0, available: 2 });
    const snapshot = await stub.snapshot({ sku, shard: 0 });
    expect(snapshot.next_expiry).toBeNull();
  });

  it("extends a held reservation past its original deadline", async () => {
    const sku = randomSku("EXTEND");
    await stockSku(sku, 1);
    const r = await reserveStock(env, { sku, holder: holder(), quantity: 1, ttlSeconds: 1, key: key() });
    if (!r.ok) throw new Error("expected a grant");
    const extended = await extendReservation(env, { sku, reservationId: r.reservation.id, ttlSeconds: 120 });
    expect(extended.ok).toBe(true);
    await elapse(coordinator(sku), 1100);
    await runDurableObjectAlarm(coordinator(sku));
    expect(await commitReservation(env, { sku, reservationId: r.reservation.id, orderId: "ord_e" })).toEqual({
      ok: true,
    });
  });

  it("refuses outside the sale window and beyond the limits, with the reason", async () => {
    const sku = randomSku("SALE");
    const future = new Date(Date.now() + 3600_000).toISOString();
    const past = new Date(Date.now() - 3600_000).toISOString();
    await stockSku(sku, 50, { sale_starts_at: future });
    const h = holder();
    expect(await reserveStock(env, { sku, holder: h, quantity: 1, key: key() })).toMatchObject({
      ok: false,
      reason: "sale_not_started",
    });
    await stockSku(sku, 50, { sale_starts_at: null, sale_ends_at: past });
    expect(await reserveStock(env, { sku, holder: h, quantity: 1, key: key() })).toMatchObject({
      reason: "sale_ended",
    });
    await stockSku(sku, 50, {
      sale_ends_at: null,
      max_per_reservation: 3,
      per_holder_limit: 4,
      per_customer_limit: 5,
    });
    expect(await reserveStock(env, { sku, holder: h, quantity: 4, key: key() })).toMatchObject({
      reason: "quantity_too_large",
    });
    expect((await reserveStock(env, { sku, holder: h, quantity: 3, key: key() })).ok).toBe(true);
    expect(await reserveStock(env, { sku, holder: h, quantity: 2, key: key() })).toMatchObject({
      reason: "limit_exceeded",
    });
    const customer = `cus_${crypto.randomUUID()}`;
    expect((await reserveStock(env, { sku, holder: holder(), customer, quantity: 3, key: key() })).ok).toBe(
      true,
    );
    expect(
      await reserveStock(env, { sku, holder: holder(), customer, quantity: 3, key: key() }),
    ).toMatchObject({
      reason: "limit_exceeded",
    });
    expect((await reserveStock(env, { sku, holder: holder(), customer, quantity: 2, key: key() })).ok).toBe(
      true,
    );
    await expectConsistent(sku);
  });
  it("repeats a refusal under a caller's key, but not under a single-use key minted for one call", async () => {
    const sku = randomSku("MEMO");
    await stockSku(sku, 1);
    const taken = await reserveStock(env, { sku, holder: holder(), quantity: 1, key: key() });
    expect(taken.ok).toBe(true);
    const kept = { sku, holder: holder(), quantity: 1, key: key() };
    const minted = { sku, holder: holder(), quantity: 1, key: key(), singleUse: true };
    expect(await reserveStock(env, kept)).toMatchObject({ ok: false, reason: "insufficient_stock" });
    expect(await reserveStock(env, minted)).toMatchObject({ ok: false, reason: "insufficient_stock" });

    await stockSku(sku, 3);
    // A retry with the caller's key answers what that key was first answered…
    expect(await reserveStock(env, kept)).toMatchObject({ ok: false, reason: "insufficient_stock" });
    // …while a single-use refusal left nothing behind: the same call is judged afresh.
    const again = await reserveStock(env, minted);
    expect(again.ok).toBe(true);
    // Grants are always remembered: the single-use key replays its grant, never grants twice.
    expect(await reserveStock(env, minted)).toEqual(again);
    expect(await expectConsistent(sku)).toMatchObject({ on_hand: 3, reserved: 2, available: 1 });
  });
});
