import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  adjustStock,
  commitReservation,
  configureSale,
  extendReservation,
  releaseReservation,
  reserveStock,
  shardOfReservation,
} from "../workers/inventory/service";
import { objectName } from "../workers/inventory/types";
import { expectConsistent, randomSku } from "./inventory-fixtures";

type Status = "held" | "committed" | "released" | "expired";

/** The whole SKU as one counter set and a ledger: what every shard layout must look like from outside. */
interface Model {
  onHand: number;
  reservations: { id: string; quantity: number; status: Status }[];
}
interface Real {
  sku: string;
  shardsUsed: number;
}

const sumOf = (m: Model, status: Status) =>
  m.reservations.filter((r) => r.status === status).reduce((t, r) => t + r.quantity, 0);
const availableOf = (m: Model) => m.onHand - sumOf(m, "held") - sumOf(m, "committed");
const pick = (m: Model, index: number) => m.reservations[index % m.reservations.length];
const hasReservations = (m: Model) => m.reservations.length > 0;

async function compare(m: Model, r: Real) {
  const view = await expectConsistent(r.sku);
  expect({
    on_hand: view.on_hand,
    reserved: view.reserved,
    sold: view.sold,
    available: view.available,
  }).toEqual({
    on_hand: m.onHand,
    reserved: sumOf(m, "held"),
    sold: sumOf(m, "committed"),
    available: availableOf(m),
  });
}

class Reserve implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly holder: number,
    readonly quantity: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const result = await reserveStock(env, {
      sku: r.sku,
      holder: `holder-${this.holder}`,
      quantity: this.quantity,
      key: crypto.randomUUID(),
    });
    expect(result.ok).toBe(this.quantity <= availableOf(m));
    if (result.ok)
      m.reservations.push({ id: result.reservation.id, quantity: this.quantity, status: "held" });
    else expect(result.reason).toBe("insufficient_stock");
    await compare(m, r);
  }
  toString = () => `reserve(holder-${this.holder}, ${this.quantity})`;
}

class Extend implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check = hasReservations;
  async run(m: Model, r: Real) {
    const res = pick(m, this.index);
    if (!res) return;
    const result = await extendReservation(env, { sku: r.sku, reservationId: res.id, ttlSeconds: 600 });
    expect(result.ok).toBe(res.status === "held");
    await compare(m, r);
  }
  toString = () => `extend(#${this.index})`;
}

class Release implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check = hasReservations;
  async run(m: Model, r: Real) {
    const res = pick(m, this.index);
    if (!res) return;
    const result = await releaseReservation(env, { sku: r.sku, reservationId: res.id });
    if (res.status === "committed") expect(result).toEqual({ ok: false, reason: "already_committed" });
    else expect(result).toEqual({ ok: true });
    if (res.status === "held") res.status = "released";
    await compare(m, r);
  }
  toString = () => `release(#${this.index})`;
}

class Commit implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check = hasReservations;
  async run(m: Model, r: Real) {
    const res = pick(m, this.index);
    if (!res) return;
    const result = await commitReservation(env, {
      sku: r.sku,
      reservationId: res.id,
      orderId: `ord-${res.id}`,
    });
    if (res.status === "held" || res.status === "committed") expect(result).toEqual({ ok: true });
    else expect(result).toEqual({ ok: false, reason: res.status });
    if (res.status === "held") res.status = "committed";
    await compare(m, r);
  }
  toString = () => `commit(#${this.index})`;
}

class Adjust implements fc.AsyncCommand<Model, Real> {
  constructor(readonly delta: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const result = await adjustStock(env, {
      sku: r.sku,
      delta: this.delta,
      reason: "model",
      key: crypto.randomUUID(),
    });
    const allowed = availableOf(m) + this.delta >= 0;
    expect(result.ok).toBe(allowed);
    if (allowed) m.onHand += this.delta;
    await compare(m, r);
  }
  toString = () => `adjust(${this.delta})`;
}

/** Moves a reservation's deadline into the past, then lets the object's alarm find it. */
class Expire implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check = hasReservations;
  async run(m: Model, r: Real) {
    const res = pick(m, this.index);
    if (!res) return;
    const stub = env.INVENTORY.getByName(objectName({ sku: r.sku, shard: shardOfReservation(res.id) ?? -1 }));
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        "UPDATE reservations SET expires_at = ? WHERE id = ? AND status = 'held'",
        Date.now() - 1,
        res.id,
      );
    });
    await runDurableObjectAlarm(stub);
    if (res.status === "held") res.status = "expired";
    await compare(m, r);
  }
  toString = () => `expire(#${this.index})`;
}

class Evict implements fc.AsyncCommand<Model, Real> {
  constructor(readonly shard: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const stub = env.INVENTORY.getByName(objectName({ sku: r.sku, shard: this.shard % r.shardsUsed }));
    // Rejects when the object is not running, which is a no-op for the model too.
    await evictDurableObject(stub).catch(() => undefined);
    await compare(m, r);
  }
  toString = () => `evict(${this.shard})`;
}

class Reshard implements fc.AsyncCommand<Model, Real> {
  constructor(readonly shards: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await configureSale(env, { sku: r.sku, policy: {}, shards: this.shards });
    r.shardsUsed = Math.max(r.shardsUsed, this.shards + 1);
    await compare(m, r);
  }
  toString = () => `reshard(${this.shards})`;
}

const commands = (withResharding: boolean) => [
  fc.tuple(fc.nat(4), fc.integer({ min: 1, max: 4 })).map(([h, q]) => new Reserve(h, q)),
  fc.nat(20).map((i) => new Extend(i)),
  fc.nat(20).map((i) => new Release(i)),
  fc.nat(20).map((i) => new Commit(i)),
  fc
    .integer({ min: -6, max: 6 })
    .filter((d) => d !== 0)
    .map((d) => new Adjust(d)),
  fc.nat(20).map((i) => new Expire(i)),
  fc.nat(4).map((s) => new Evict(s)),
  ...(withResharding ? [fc.integer({ min: 1, max: 3 }).map((n) => new Reshard(n))] : []),
];

async function runModel(initialShards: number, withResharding: boolean, numRuns: number) {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 12 }),
      fc.commands(commands(withResharding), { maxCommands: 18 }),
      async (stock, cmds) => {
        const sku = randomSku("MODEL");
        await configureSale(env, { sku, policy: {}, shards: initialShards });
        if (stock > 0)
          await adjustStock(env, { sku, delta: stock, reason: "initial", key: crypto.randomUUID() });
        const model: Model = { onHand: stock, reservations: [] };
        const real: Real = { sku, shardsUsed: initialShards > 1 ? initialShards + 1 : 1 };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      },
    ),
    { numRuns },
  );
}

describe("inventory model", () => {
  it("matches a single-counter model after every operation on one object", async () => {
    await runModel(1, false, 15);
  });

  it("matches the same model when the SKU is sharded and re-sharded between operations", async () => {
    await runModel(2, true, 8);
  });
});
