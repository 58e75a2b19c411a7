import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyActivity,
  applyGrant,
  availableOf,
  freeUnits,
  giveBack,
  grantSize,
  hold,
  type ShardCounters,
  sell,
  unhold,
  unitsInTransit,
  unseen,
  unsell,
} from "../workers/inventory/counters";

const shard = (over: Partial<ShardCounters> = {}): ShardCounters => ({
  shard: 1,
  on_hand: 0,
  reserved: 0,
  sold: 0,
  granted_seen: 0,
  returned_total: 0,
  active: 1,
  draining: 0,
  ...over,
});

describe("unit movements between a coordinator and a shard", () => {
  it("applies a cumulative grant once: a replay or an older grant adds nothing", () => {
    const s = shard();
    expect(applyGrant(s, 5)).toBe(5);
    expect(applyGrant(s, 5)).toBe(0);
    expect(applyGrant(s, 3)).toBe(0);
    expect(applyGrant(s, 8)).toBe(3);
    expect(s).toMatchObject({ on_hand: 8, granted_seen: 8 });
  });

  it("ends draining when a grant arrives, and a retired shard passes the grant straight back", () => {
    const draining = shard({ draining: 1 });
    applyGrant(draining, 2);
    expect(draining).toMatchObject({ on_hand: 2, draining: 0, returned_total: 0 });
    const retired = shard({ active: 0 });
    applyGrant(retired, 4);
    expect(retired).toMatchObject({ on_hand: 0, granted_seen: 4, returned_total: 4 });
  });

  it("hands back only available units on a steal, and marks a shard it empties as draining", () => {
    const s = shard({ on_hand: 10, reserved: 3, sold: 2 });
    expect(giveBack(s, 2)).toEqual({ returned: 2, remaining: 3 });
    expect(s.draining).toBe(0);
    expect(giveBack(s, 100)).toEqual({ returned: 3, remaining: 0 });
    expect(s).toMatchObject({ on_hand: 5, reserved: 3, sold: 2, returned_total: 5, draining: 1 });
  });

  it("sends freed units back from a draining or retired shard, and keeps them on an active one or the coordinator", () => {
    const active = shard({ on_hand: 4, reserved: 4 });
    unhold(active, 4);
    expect(active).toMatchObject({ on_hand: 4, reserved: 0, returned_total: 0 });
    const draining = shard({ on_hand: 4, reserved: 4, draining: 1 });
    unhold(draining, 4);
    expect(draining).toMatchObject({ on_hand: 0, reserved: 0, returned_total: 4 });
    const coordinator = shard({ shard: 0, on_hand: 4, sold: 4, active: 0, draining: 1 });
    unsell(coordinator, 4);
    expect(coordinator).toMatchObject({ on_hand: 4, sold: 0, returned_total: 0 });
  });

  it("retires every available unit when a shard leaves the active set, and keeps its holds", () => {
    const s = shard({ on_hand: 9, reserved: 2, sold: 3 });
    applyActivity(s, false);
    expect(s).toMatchObject({ active: 0, on_hand: 5, reserved: 2, sold: 3, returned_total: 4 });
    sell(s, 2);
    expect(s).toMatchObject({ on_hand: 5, reserved: 0, sold: 5 });
  });

  it("grants what a shard needs or a fair share, whichever is more, and nothing to a retired shard", () => {
    expect(grantSize(100, 1, 4, true)).toBe(25);
    expect(grantSize(100, 40, 4, true)).toBe(40);
    expect(grantSize(3, 10, 4, true)).toBe(3);
    expect(grantSize(100, 0, 4, true)).toBe(0);
    expect(grantSize(100, 5, 4, false)).toBe(0);
    expect(unseen(7, 4)).toBe(3);
    expect(unseen(4, 7)).toBe(0);
  });

  it("shrinks a hold with a negative count, freeing the units", () => {
    const s = shard({ on_hand: 5, reserved: 5, draining: 1 });
    hold(s, -2);
    expect(s).toMatchObject({ on_hand: 3, reserved: 3, returned_total: 2 });
    freeUnits(s, 0);
    expect(availableOf(s)).toBe(0);
  });
});

/*
 * A coordinator and three shards exchanging units through the counter protocol, with messages
 * that can be delivered late, twice or never. Whatever happens, no unit is created or lost:
 * sku_on_hand = Σ on_hand + units in transit, and no object ever has negative stock.
 */
type Op =
  | { kind: "grant"; shard: number; want: number }
  | { kind: "deliverGrant"; shard: number; stale: boolean }
  | { kind: "steal"; shard: number; want: number }
  | { kind: "deliverReturn"; shard: number; stale: boolean }
  | { kind: "hold"; shard: number; units: number }
  | { kind: "release"; shard: number }
  | { kind: "sell"; shard: number }
  | { kind: "unsell"; shard: number }
  | { kind: "retire"; shard: number; active: boolean };

const SHARDS = [1, 2, 3];
const shardArb = fc.constantFrom(...SHARDS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("grant" as const), shard: shardArb, want: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant("deliverGrant" as const), shard: shardArb, stale: fc.boolean() }),
  fc.record({ kind: fc.constant("steal" as const), shard: shardArb, want: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant("deliverReturn" as const), shard: shardArb, stale: fc.boolean() }),
  fc.record({ kind: fc.constant("hold" as const), shard: shardArb, units: fc.integer({ min: 1, max: 10 }) }),
  fc.record({ kind: fc.constant("release" as const), shard: shardArb }),
  fc.record({ kind: fc.constant("sell" as const), shard: shardArb }),
  fc.record({ kind: fc.constant("unsell" as const), shard: shardArb }),
  fc.record({ kind: fc.constant("retire" as const), shard: shardArb, active: fc.boolean() }),
);

describe("the counter protocol (property)", () => {
  it("never creates or loses a unit, whatever order messages arrive in, or if they are replayed or lost", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.array(opArb, { maxLength: 80 }), (stock, ops) => {
        const skuOnHand = stock;
        const coordinator = shard({ shard: 0, on_hand: stock });
        const shards = new Map(SHARDS.map((n) => [n, shard({ shard: n })]));
        // Coordinator-owned per-shard link, and every counter value each side ever sent.
        const links = new Map(SHARDS.map((n) => [n, { granted_total: 0, returned_seen: 0 }]));
        const grantsSent = new Map(SHARDS.map((n) => [n, [0]]));
        const returnsSent = new Map(SHARDS.map((n) => [n, [0]]));
        const held = new Map(SHARDS.map((n) => [n, 0]));
        const soldOn = new Map(SHARDS.map((n) => [n, 0]));

        for (const op of ops) {
          const s = shards.get(op.shard) as ShardCounters;
          const link = links.get(op.shard) as { granted_total: number; returned_seen: number };
          const pick = (sent: number[], stale: boolean) =>
            stale ? (sent[Math.floor(sent.length / 2)] ?? 0) : (sent.at(-1) ?? 0);
          switch (op.kind) {
            case "grant": {
              const give = grantSize(availableOf(coordinator), op.want, SHARDS.length, s.active === 1);
              coordinator.on_hand -= give;
              link.granted_total += give;
              grantsSent.get(op.shard)?.push(link.granted_total);
              break;
            }
            case "deliverGrant":
              applyGrant(s, pick(grantsSent.get(op.shard) ?? [0], op.stale));
              returnsSent.get(op.shard)?.push(s.returned_total);
              break;
            case "steal":
              giveBack(s, op.want);
              returnsSent.get(op.shard)?.push(s.returned_total);
              break;
            case "deliverReturn": {
              const total = pick(returnsSent.get(op.shard) ?? [0], op.stale);
              const delta = unseen(total, link.returned_seen);
              coordinator.on_hand += delta;
              link.returned_seen = Math.max(link.returned_seen, total);
              break;
            }
            case "hold": {
              const units = Math.min(op.units, availableOf(s));
              hold(s, units);
              held.set(op.shard, (held.get(op.shard) ?? 0) + units);
              break;
            }
            case "release":
              unhold(s, held.get(op.shard) ?? 0);
              held.set(op.shard, 0);
              returnsSent.get(op.shard)?.push(s.returned_total);
              break;
            case "sell":
              sell(s, held.get(op.shard) ?? 0);
              soldOn.set(op.shard, (soldOn.get(op.shard) ?? 0) + (held.get(op.shard) ?? 0));
              held.set(op.shard, 0);
              break;
            case "unsell":
              unsell(s, soldOn.get(op.shard) ?? 0);
              soldOn.set(op.shard, 0);
              returnsSent.get(op.shard)?.push(s.returned_total);
              break;
            case "retire":
              if ((s.active === 1) !== op.active) applyActivity(s, op.active);
              returnsSent.get(op.shard)?.push(s.returned_total);
              break;
          }

          const inTransit = unitsInTransit(links, [...shards.values()]);
          let onHand = coordinator.on_hand;
          for (const n of SHARDS) {
            const t = shards.get(n) as ShardCounters;
            onHand += t.on_hand;
            expect(availableOf(t), `shard ${n} after ${op.kind}`).toBeGreaterThanOrEqual(0);
            expect(t.reserved).toBe(held.get(n));
            expect(t.sold).toBe(soldOn.get(n));
          }
          expect(availableOf(coordinator)).toBeGreaterThanOrEqual(0);
          expect(onHand + inTransit, `after ${JSON.stringify(op)}`).toBe(skuOnHand);
        }
      }),
      { numRuns: 300 },
    );
  });
});
