import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CART_STORAGE_MIGRATIONS, migrateCartStorage } from "../durable-objects/cart-storage";
import { INVENTORY_STORAGE_MIGRATIONS } from "../durable-objects/inventory-storage";
import { releaseReservation, reserveStock, setStock } from "../workers/inventory/service";
import { objectName } from "../workers/inventory/types";
import { restoreObject, storageVersion } from "./compat-fixtures";
import inventoryV1 from "./fixtures/storage/inventory-v1.json";
import type { StorageDump } from "./release/fixture-format";

/*
 * Storage shapes older than the previous release, kept while objects that could still hold them
 * may exist. Inventory schema v1 predates the `draining` column (migration 2); see the
 * fixture's `provenance`.
 */

const fixture = inventoryV1 as { captured_at: number; objects: StorageDump[] };
const address = (name: string) => {
  const [sku, shard] = name.slice(4).split("#");
  return { sku: sku as string, shard: Number(shard ?? 0) };
};
const sku = address(fixture.objects[0]?.object ?? "").sku;

describe("inventory objects stored by schema v1", () => {
  it("migrate forward on wake: every step they missed runs, counters and ledgers untouched", async () => {
    const shift = Date.now() - fixture.captured_at;
    for (const dump of fixture.objects) {
      const stub = env.INVENTORY.getByName(dump.object);
      await restoreObject(stub, dump, shift);
      expect(await storageVersion(stub), dump.object).toBe(INVENTORY_STORAGE_MIGRATIONS.length);
      const draining = await runInDurableObject(stub, (_instance, state) =>
        state.storage.sql.exec<{ draining: number }>("SELECT draining FROM state").one(),
      );
      expect(draining.draining).toBe(0);
      const snapshot = await stub.snapshot(address(dump.object));
      const state = dump.tables.find((t) => t.name === "state")?.rows[0];
      expect([snapshot.on_hand, snapshot.reserved, snapshot.sold]).toEqual([
        state?.on_hand,
        state?.reserved,
        state?.sold,
      ]);
      expect((await stub.checkInvariants(address(dump.object))).violations).toEqual([]);
    }
  });

  it("then serve reservations, steals and alarms like any current object", async () => {
    const coordinator = env.INVENTORY.getByName(objectName({ sku, shard: 0 }));
    const before = await coordinator.skuView({ sku, shard: 0 });
    expect(before.shard_count).toBeGreaterThan(1);
    const held = await reserveStock(env, {
      sku,
      holder: "compat-holder",
      quantity: 1,
      key: crypto.randomUUID(),
    });
    if (!held.ok) throw new Error(`reserve refused: ${held.reason}`);
    expect(await releaseReservation(env, { sku, reservationId: held.reservation.id })).toEqual({ ok: true });
    // Lowering stock below the coordinator's own pool takes units back from the shards.
    const lowered = await setStock(env, {
      sku,
      onHand: before.on_hand - before.available,
      reason: "compat: sell-through",
      key: crypto.randomUUID(),
    });
    expect(lowered.ok).toBe(true);
    for (const dump of fixture.objects) await runDurableObjectAlarm(env.INVENTORY.getByName(dump.object));
    const after = await coordinator.skuView({ sku, shard: 0 });
    expect(after.available).toBe(0);
    expect(after.available + after.reserved + after.sold).toBe(after.on_hand);
    for (const dump of fixture.objects) {
      const report = await env.INVENTORY.getByName(dump.object).checkInvariants(address(dump.object));
      expect(report.violations, dump.object).toEqual([]);
    }
  });
});

describe("cart storage counted in cart_schema only (before the shared runner)", () => {
  it("runs only the steps it missed, records them in _migrations, and keeps cart_schema current for a rollback", async () => {
    const stub = env.CART.get(env.CART.idFromName(`cart_${crypto.randomUUID()}`));
    const versions = await runInDurableObject(stub, async (_instance, state) => {
      // The storage as the old runner left it after step 1 only.
      await state.storage.deleteAll();
      state.storage.sql.exec(CART_STORAGE_MIGRATIONS[0] ?? "");
      state.storage.sql.exec("CREATE TABLE cart_schema (version INTEGER NOT NULL)");
      state.storage.sql.exec("INSERT INTO cart_schema (version) VALUES (1)");
      // Re-running step 1 would fail (its tables exist): the count must be honoured.
      migrateCartStorage(state.storage);
      const columns = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('checkouts')")
        .toArray()
        .map((c) => c.name);
      const recorded = state.storage.sql
        .exec<{ version: number }>("SELECT version FROM _migrations ORDER BY version")
        .toArray()
        .map((r) => r.version);
      const legacy = state.storage.sql.exec<{ version: number }>("SELECT version FROM cart_schema").one();
      // A second wake changes nothing.
      migrateCartStorage(state.storage);
      return { columns, recorded, legacy: legacy.version };
    });
    expect(versions.columns).toEqual(
      expect.arrayContaining(["request_fingerprint", "completion", "reserved"]),
    );
    expect(versions.recorded).toEqual(
      Array.from({ length: CART_STORAGE_MIGRATIONS.length - 1 }, (_, i) => i + 2),
    );
    expect(versions.legacy).toBe(CART_STORAGE_MIGRATIONS.length);
    expect(await storageVersion(stub)).toBe(CART_STORAGE_MIGRATIONS.length);
  });
});
