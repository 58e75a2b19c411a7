import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allowedNext, ORDER_STATUSES, transition } from "../workers/orders/lifecycle";

describe("order lifecycle", () => {
  it("follows the happy path placed → paid → fulfilling → shipped → delivered", () => {
    const path = ["placed", "paid", "fulfilling", "shipped", "delivered"] as const;
    for (let i = 1; i < path.length; i++) {
      expect(
        transition(path[i - 1] as (typeof path)[number], path[i] as (typeof path)[number]),
      ).toMatchObject({ ok: true, changed: true });
    }
  });

  it("refuses to cancel a shipped order or to revive a cancelled one", () => {
    expect(transition("shipped", "cancelled")).toMatchObject({ ok: false, reason: "illegal_transition" });
    expect(transition("cancelled", "paid")).toMatchObject({ ok: false });
    expect(transition("refunded", "shipped")).toMatchObject({ ok: false });
    expect(transition("delivered", "shipped")).toMatchObject({ ok: false });
  });

  it("treats a repeated transition as an idempotent no-op", () => {
    expect(transition("shipped", "shipped")).toEqual({
      ok: true,
      from: "shipped",
      to: "shipped",
      changed: false,
    });
  });

  it("never lets a terminal status move and never allows a transition outside the table", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ORDER_STATUSES), fc.constantFrom(...ORDER_STATUSES), (from, to) => {
        const result = transition(from, to);
        if (from === to) return result.ok && !result.changed;
        return result.ok === allowedNext(from).includes(to);
      }),
    );
    expect(allowedNext("cancelled")).toEqual([]);
    expect(allowedNext("refunded")).toEqual([]);
  });
});
