import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  admissionTime,
  advance,
  initialSchedule,
  issue,
  reconfigure,
  type Schedule,
  slotTime,
} from "../workers/waiting-room/schedule";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 1, 9);

/** A room driven by explicit clock readings, recording when each ticket joined and was admitted. */
class Room {
  s: Schedule;
  joinedAt: number[] = [];
  admittedAt: number[] = [];

  constructor(now: number, rate: number, opensAt: number | null = null) {
    this.s = initialSchedule(now, rate, opensAt);
  }

  tick(now: number): void {
    const before = this.s;
    const { schedule, admitted, firstSlot } = advance(before, now);
    for (let i = 0; i < admitted; i++) this.admittedAt.push(slotTime(before, firstSlot + i));
    this.s = schedule;
  }

  join(now: number): number {
    this.tick(now);
    this.s = issue(this.s, now);
    this.joinedAt.push(now);
    this.tick(now);
    return this.s.issued;
  }
}

describe("waiting-room admission schedule", () => {
  it("admits exactly the configured number per minute, in ticket order, once the room opens", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 5 }),
        (rate, visitors, minutes) => {
          const opensAt = T0 + 3_600_000;
          const room = new Room(T0, rate, opensAt);
          for (let i = 0; i < visitors; i++) room.join(T0 + i);
          room.tick(opensAt - 1);
          expect(room.s.admitted).toBe(0);
          // Every half-open minute [open + k min, open + (k+1) min) admits exactly `rate`.
          room.tick(opensAt + minutes * MINUTE - 1);
          expect(room.s.admitted).toBe(Math.min(visitors, minutes * rate));
          room.tick(opensAt + minutes * MINUTE);
          expect(room.s.admitted).toBe(Math.min(visitors, minutes * rate + 1));
          // Admission times follow ticket order.
          for (let i = 1; i < room.admittedAt.length; i++) {
            expect(room.admittedAt[i]).toBeGreaterThanOrEqual(room.admittedAt[i - 1] ?? 0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never admits more than the rate in any 60-second window, nor anyone before they joined", () => {
    const event = fc.record({ gap: fc.integer({ min: 0, max: 40_000 }), join: fc.boolean() });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.array(event, { maxLength: 300 }), (rate, events) => {
        let now = T0;
        const room = new Room(now, rate);
        for (const e of events) {
          now += e.gap;
          if (e.join) room.join(now);
          else room.tick(now);
        }
        room.tick(now + 24 * 3_600_000);
        expect(room.s.admitted).toBe(room.s.issued);
        const times = room.admittedAt;
        for (let i = 0; i + rate < times.length; i++) {
          expect((times[i + rate] ?? 0) - (times[i] ?? 0)).toBeGreaterThanOrEqual(MINUTE);
        }
        times.forEach((at, i) => {
          expect(at).toBeGreaterThanOrEqual(room.joinedAt[i] ?? Number.NaN);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("does not bank the slots of a quiet hour: a crowd arriving later still enters at the rate", () => {
    const rate = 30;
    const room = new Room(T0, rate);
    const quiet = T0 + 3_600_000;
    for (let i = 0; i < 3 * rate; i++) room.join(quiet);
    expect(room.s.admitted).toBe(1);
    room.tick(quiet + MINUTE - 1);
    expect(room.s.admitted).toBe(rate);
  });

  it("lets the first visitor into an open, empty room at once and predicts everyone's slot", () => {
    const room = new Room(T0, 6);
    room.join(T0 + 5);
    expect(room.s.admitted).toBe(1);
    for (let i = 0; i < 4; i++) room.join(T0 + 10 + i);
    // Ticket 2 gets the next slot 10 s after the first admission, ticket 5 40 s after.
    expect(admissionTime(room.s, 2)).toBe(T0 + 5 + 10_000);
    expect(admissionTime(room.s, 5)).toBe(T0 + 5 + 40_000);
    room.tick(T0 + 5 + 40_000);
    expect(room.s.admitted).toBe(5);
    expect(room.admittedAt).toEqual([0, 10_000, 20_000, 30_000, 40_000].map((d) => T0 + 5 + d));
  });

  it("keeps places and past admissions when the rate changes mid-sale", () => {
    const room = new Room(T0, 60);
    for (let i = 0; i < 100; i++) room.join(T0);
    room.tick(T0 + 9_500);
    expect(room.s.admitted).toBe(10);
    room.s = reconfigure(room.s, T0 + 9_500, { ratePerMinute: 600, opensAt: null });
    // The next admission is one new interval (100 ms) after the last one (at 9 s), then every 100 ms.
    expect(admissionTime(room.s, 11)).toBe(T0 + 9_500);
    room.tick(T0 + 9_500 + 1_000);
    expect(room.s.admitted).toBe(21);
    expect(room.admittedAt.slice(9, 12)).toEqual([T0 + 9_000, T0 + 9_500, T0 + 9_600]);
  });

  it("moves the opening: nobody is admitted before it, the line keeps its order", () => {
    const room = new Room(T0, 60, T0 + MINUTE);
    for (let i = 0; i < 5; i++) room.join(T0 + i);
    room.tick(T0 + 30_000);
    room.s = reconfigure(room.s, T0 + 30_000, { ratePerMinute: 60, opensAt: T0 + 2 * MINUTE });
    room.tick(T0 + 2 * MINUTE - 1);
    expect(room.s.admitted).toBe(0);
    expect(admissionTime(room.s, 1)).toBe(T0 + 2 * MINUTE);
    room.s = reconfigure(room.s, T0 + 90_000, { ratePerMinute: 60, opensAt: null });
    room.tick(T0 + 90_000);
    expect(room.s.admitted).toBe(1);
  });
});
