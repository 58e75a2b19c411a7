import { createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { AuditReport, Discrepancy } from "../workers/audit/schemas";
import { ORPHANED_HOLD_GRACE_MS, releaseOrphanedHolds } from "../workers/audit/service";
import worker from "../workers/edge/index";
import { newId } from "../workers/lib/ids";
import { stockedSku } from "./checkout-fixtures";
import { ADMIN, callJson, eventually, expectJson } from "./helpers";
import { coordinator, elapse } from "./inventory-fixtures";
import { newCart } from "./revenue-fixtures";

const PAST_GRACE_MS = ORPHANED_HOLD_GRACE_MS + 60_000;

interface Inventory {
  available: number;
  reserved: number;
  reservations: { id: string; holder: string; status: string }[];
}

/** A flash-sale SKU (holds from add-to-cart, 10-minute holds) the cron's auditor looks at. */
async function flashSku(stock: number): Promise<string> {
  const sku = await stockedSku(stock, { flash: true, ttlSeconds: 600 });
  // The auditor walks the SKUs in D1's reporting copy of the levels, fed through the queue.
  await eventually(
    () => env.DB.prepare("SELECT sku FROM inventory_levels WHERE sku = ?").bind(sku).first(),
    10_000,
  );
  return sku;
}

/** A hold placed straight on the inventory object for `holder`, as a cart's add-to-cart grant is. */
async function holdFor(sku: string, holder: string, quantity: number): Promise<string> {
  const res = await callJson(`/admin/api/inventory/${sku}/reservations`, "POST", { holder, quantity }, ADMIN);
  return (await expectJson<{ id: string }>(res, 201)).id;
}

async function inventory(sku: string): Promise<Inventory> {
  return expectJson<Inventory>(await callJson(`/admin/api/inventory/${sku}`, "GET", undefined, ADMIN));
}

async function audit(sku: string, minAgeSeconds = 0): Promise<AuditReport> {
  const res = await callJson(
    `/admin/api/audit?sku=${sku}&min_age_seconds=${minAgeSeconds}`,
    "GET",
    undefined,
    ADMIN,
  );
  return expectJson<AuditReport>(res);
}

/** One tick of the worker's per-minute cron trigger. */
async function cron(cronEnv: Env = env): Promise<void> {
  await worker.scheduled(
    createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }),
    cronEnv,
  );
}

/**
 * `env` whose cart object `cartId` runs `beforeRecheck` just before its second `holdsInUse`
 * call: the first is the audit's, the second the repair's re-check, so this is a cart write
 * that lands after the audit found the hold orphaned and before the release.
 */
function envWithLateCartWrite(cartId: string, beforeRecheck: () => Promise<void>) {
  const watched = env.CART.idFromName(cartId);
  let calls = 0;
  const hooked = (stub: DurableObjectStub) =>
    new Proxy(stub, {
      get(target, prop, receiver) {
        if (prop === "holdsInUse") {
          return async () => {
            calls += 1;
            if (calls === 2) await beforeRecheck();
            return Reflect.apply(Reflect.get(target, prop, receiver) as () => unknown, target, []);
          };
        }
        // A stub answers every property with an RPC method; call through, never `.bind` it.
        return (...args: unknown[]) =>
          Reflect.apply(Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown, target, args);
      },
    });
  const CART = new Proxy(env.CART, {
    get(target, prop) {
      if (prop === "get") {
        return (id: DurableObjectId) => (id.equals(watched) ? hooked(target.get(id)) : target.get(id));
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { env: { ...env, CART } as Env, recheckCalls: () => calls };
}

describe("the cron releases orphaned holds on its own", () => {
  it("gives back units held for a cart that never recorded them, once they are past the grace period", async () => {
    const sku = await flashSku(5);
    const orphan = await holdFor(sku, newId("cart"), 2);
    expect(await inventory(sku)).toMatchObject({ available: 3, reserved: 2 });
    await elapse(coordinator(sku), PAST_GRACE_MS);

    const spy = vi.spyOn(console, "log");
    let logged: unknown[][];
    try {
      await cron();
    } finally {
      logged = [...spy.mock.calls];
      spy.mockRestore();
    }

    const after = await inventory(sku);
    expect(after).toMatchObject({ available: 5, reserved: 0 });
    const released = logged
      .map(([line]) => String(line))
      .filter((line) => line.includes('"orphaned_holds_released"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(released).toHaveLength(1);
    expect(released[0]).toMatchObject({ count: 1, units: 2, failed: 0 });
    expect(released[0]?.reservation_ids).toContain(orphan);
    expect(after.reservations.filter((r) => r.id === orphan && r.status === "held")).toEqual([]);
    expect((await audit(sku)).discrepancies).toEqual([]);
  });

  it("leaves a hold inside the grace period alone, even one the default audit already calls orphaned", async () => {
    const sku = await flashSku(5);
    const young = await holdFor(sku, newId("cart"), 2);
    // Older than the auditor's default in-flight cut-off (60 s), younger than the grace period.
    await elapse(coordinator(sku), ORPHANED_HOLD_GRACE_MS - 30_000);
    const found = (await audit(sku, 60)).discrepancies;
    expect(found.map((d) => [d.kind, d.reservation_id])).toEqual([["orphaned_hold", young]]);

    await cron();

    expect(await inventory(sku)).toMatchObject({ available: 3, reserved: 2 });
    expect((await audit(sku)).discrepancies.map((d) => d.reservation_id)).toEqual([young]);
  });

  it("never releases a hold a cart's line holds", async () => {
    const sku = await flashSku(5);
    const cart = await newCart();
    const added = await callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity: 2 }, cart.headers);
    expect(added.status).toBe(200);
    expect(await inventory(sku)).toMatchObject({ available: 3, reserved: 2 });
    await elapse(coordinator(sku), PAST_GRACE_MS);

    await cron();

    expect(await inventory(sku)).toMatchObject({ available: 3, reserved: 2 });
    const view = await expectJson<{ lines: { sku: string; quantity: number }[] }>(
      await callJson(`/api/carts/${cart.id}`, "GET", undefined, cart.headers),
    );
    expect(view.lines.map((l) => [l.sku, l.quantity])).toEqual([[sku, 2]]);
  });

  it("keeps a hold the cart records after the audit found it orphaned: the release re-checks with the cart", async () => {
    const sku = await flashSku(5);
    const cart = await newCart();
    const hold = await holdFor(sku, cart.id, 2);
    await elapse(coordinator(sku), PAST_GRACE_MS);
    // The cart's in-flight add-to-cart lands between the audit and the release.
    const late = envWithLateCartWrite(cart.id, () =>
      runInDurableObject(env.CART.get(env.CART.idFromName(cart.id)), (_instance, state) => {
        const now = Date.now();
        state.storage.sql.exec(
          `INSERT INTO lines (id, sku, quantity, acknowledged_price, reservation_id, reservation_expires_at,
             created_at, updated_at) VALUES (?, ?, 2, 1000, ?, ?, ?, ?)`,
          newId("line"),
          sku,
          hold,
          now + 600_000,
          now,
          now,
        );
      }),
    );

    await cron(late.env);

    expect(late.recheckCalls()).toBe(2);
    expect(await inventory(sku)).toMatchObject({ available: 3, reserved: 2 });
    const view = await expectJson<{ lines: { sku: string; quantity: number }[] }>(
      await callJson(`/api/carts/${cart.id}`, "GET", undefined, cart.headers),
    );
    expect(view.lines.map((l) => [l.sku, l.quantity])).toEqual([[sku, 2]]);
    // And from now on the hold is in use: no later run touches it.
    await cron();
    expect(await inventory(sku)).toMatchObject({ available: 3, reserved: 2 });
    expect((await audit(sku)).discrepancies).toEqual([]);
  });

  it("is idempotent: a second run finds nothing left and changes nothing", async () => {
    const sku = await flashSku(6);
    const cart = await newCart();
    const kept = await callJson(`/api/carts/${cart.id}/lines`, "POST", { sku, quantity: 1 }, cart.headers);
    expect(kept.status).toBe(200);
    await holdFor(sku, newId("cart"), 2);
    await holdFor(sku, cart.id, 1);
    expect(await inventory(sku)).toMatchObject({ available: 2, reserved: 4 });
    await elapse(coordinator(sku), PAST_GRACE_MS);

    await cron();
    const once = await inventory(sku);
    await cron();
    const twice = await inventory(sku);

    expect(once).toMatchObject({ available: 5, reserved: 1 });
    expect(twice).toMatchObject({ available: 5, reserved: 1 });
    expect((await audit(sku)).discrepancies).toEqual([]);
  });
});

describe("the unattended release", () => {
  const discrepancy = (kind: Discrepancy["kind"], ids: Partial<Discrepancy> = {}): Discrepancy => ({
    kind,
    sku: null,
    checkout_id: null,
    reservation_id: null,
    order_id: null,
    cart_id: null,
    payment_id: null,
    quantity: null,
    repairable: true,
    detail: "",
    ...ids,
  });
  const report = (minAgeSeconds: number, discrepancies: Discrepancy[]): AuditReport => ({
    generated_at: new Date().toISOString(),
    window_hours: 24,
    min_age_seconds: minAgeSeconds,
    skus: [],
    discrepancies,
  });

  it("repairs orphaned holds only; every other kind is left for a person", async () => {
    const sku = await stockedSku(3, { flash: true });
    const reservation = await holdFor(sku, newId("cart"), 1);
    const cartId = newId("cart");
    const actions = await releaseOrphanedHolds(
      env,
      report(ORPHANED_HOLD_GRACE_MS / 1000, [
        discrepancy("committed_without_order", { sku, checkout_id: newId("chk"), cart_id: cartId }),
        discrepancy("charge_without_order", {
          checkout_id: newId("chk"),
          cart_id: cartId,
          payment_id: "pay",
        }),
        discrepancy("orphaned_hold", { sku, reservation_id: reservation, cart_id: cartId, quantity: 1 }),
      ]),
    );
    expect(actions.map((a) => [a.discrepancy.kind, a.result])).toEqual([["orphaned_hold", "released_hold"]]);
    expect(await inventory(sku)).toMatchObject({ available: 3, reserved: 0 });
  });

  it("leaves the admin repair as it was: it releases an orphan of any age it is asked to judge", async () => {
    const sku = await stockedSku(3, { flash: true });
    const orphan = await holdFor(sku, newId("cart"), 1);
    const res = await callJson(`/admin/api/audit/repairs?sku=${sku}&min_age_seconds=0`, "POST", {}, ADMIN);
    const repair = await expectJson<{ actions: { discrepancy: Discrepancy; result: string }[] }>(res);
    expect(repair.actions.map((a) => [a.discrepancy.reservation_id, a.result])).toEqual([
      [orphan, "released_hold"],
    ]);
    expect(await inventory(sku)).toMatchObject({ available: 3, reserved: 0 });
  });

  it("refuses an audit that judged holds younger than the grace period", async () => {
    await expect(releaseOrphanedHolds(env, report(60, []))).rejects.toThrow(/cannot release/);
  });
});
