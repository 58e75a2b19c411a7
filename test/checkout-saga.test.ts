import { describe, expect, it } from "vitest";
import type { CartRow, CheckoutRow, LineRow } from "../durable-objects/cart-storage";
import { completeCheckout } from "../workers/checkout/completion";
import { holdsInUse } from "../workers/checkout/saga";
import type { CheckoutPatch, CheckoutSet, CheckoutStore, NewCheckout } from "../workers/checkout/store";
import type { PaymentOutcome } from "../workers/payments/provider";

/*
 * The saga against an in-memory `CheckoutStore`, apart from the cart object: what it asks of
 * its single writer, and in which order. End-to-end behaviour (the real object, crashes, the
 * alarm) is in checkout*.test.ts and integrity-*.test.ts.
 */

/** Every store call and every binding the saga touches, in order; any binding "crashes" the run. */
function recordingStore(rows: CheckoutRow[], lines: LineRow[] = []) {
  const calls: string[] = [];
  const checkouts = new Map(rows.map((row) => [row.id, { ...row }]));
  const env = new Proxy({} as Env, {
    get(_target, binding) {
      calls.push(`env.${String(binding)}`);
      throw new Error(`process died at env.${String(binding)}`);
    },
  });
  const cart = { id: "cart_1", status: "checking_out" } as CartRow;
  const store: CheckoutStore = {
    env,
    cart: () => cart,
    requireCart: () => cart,
    lines: () => lines,
    promotionCodes: () => [],
    setCartStatus: (status) => calls.push(`setCartStatus ${status}`),
    setLineHold: (lineId) => calls.push(`setLineHold ${lineId}`),
    checkout: (id) => checkouts.get(id) ?? null,
    requireCheckout: (id) => {
      const row = checkouts.get(id);
      if (!row) throw new Error(`checkout ${id} missing`);
      return row;
    },
    checkoutByKey: (key) => [...checkouts.values()].find((row) => row.idempotency_key === key) ?? null,
    checkouts: (which: CheckoutSet) =>
      [...checkouts.values()].filter((row) => {
        const active = ["pending", "awaiting_payment", "requires_action"].includes(row.status);
        const completing = row.completion !== null && row.order_id === null;
        if (which === "active") return active;
        if (which === "completing") return completing;
        if (which === "holding") return active || completing;
        return row.status === "completed";
      }),
    insertCheckout: (row: NewCheckout) => calls.push(`insertCheckout ${row.id}`),
    updateCheckout: (id: string, patch: CheckoutPatch) => {
      calls.push(`updateCheckout ${Object.keys(patch).sort().join(",")}`);
      const row = checkouts.get(id);
      if (row) Object.assign(row, patch);
    },
    deleteCheckout: (id) => calls.push(`deleteCheckout ${id}`),
    orderToken: () => null,
    saveOrderToken: () => calls.push("saveOrderToken"),
    touch: async () => {
      calls.push("touch");
    },
    scheduleAlarm: async () => {
      calls.push("scheduleAlarm");
    },
    setAlarm: async (at) => {
      calls.push(`setAlarm ${at}`);
    },
    sync: async () => {
      calls.push("sync");
    },
  };
  return { store, calls, checkouts };
}

function paidCheckout(overrides: Partial<CheckoutRow> = {}): CheckoutRow {
  return {
    id: "chk_1",
    idempotency_key: "key-1",
    status: "awaiting_payment",
    snapshot: JSON.stringify({
      cart_id: "cart_1",
      email: "a@example.com",
      currency: "USD",
      total: 1000,
      promotions: [],
      lines: [],
    }),
    reservations: JSON.stringify([
      { sku: "SKU-1", line_id: "line_1", quantity: 1, reservation_id: "res_1", source: "checkout" },
    ]),
    promotion_ids: "[]",
    provider: "test",
    payment_id: "pay_1",
    client_secret: null,
    next_action: null,
    order_id: null,
    failure: null,
    created_at: 0,
    updated_at: 0,
    expires_at: 0,
    request_fingerprint: null,
    completion: null,
    reserved: 1,
    ...overrides,
  };
}

const outcome: PaymentOutcome = {
  event_id: "evt_1",
  provider: "test",
  payment_id: "pay_1",
  checkout_id: "chk_1",
  cart_id: "cart_1",
  status: "succeeded",
  amount: { amount: 1000, currency: "USD" },
};

describe("checkout saga over a CheckoutStore", () => {
  it("records the completion intent, arms the alarm and flushes storage before it touches stock, D1 or the provider", async () => {
    const { store, calls, checkouts } = recordingStore([paidCheckout()]);
    await expect(completeCheckout(store, paidCheckout(), outcome)).rejects.toThrow(/process died/);
    expect(calls.slice(0, 3)).toEqual(["updateCheckout completion", "scheduleAlarm", "sync"]);
    expect(calls[3]).toMatch(/^env\./);
    // What survives the crash is the intent: the alarm (or a replay) re-drives it.
    expect(JSON.parse(checkouts.get("chk_1")?.completion ?? "null")).toEqual(outcome);
    expect(checkouts.get("chk_1")?.order_id).toBeNull();
  });

  it("re-drives a recorded completion without writing the intent again", async () => {
    const recorded = paidCheckout({ completion: JSON.stringify(outcome) });
    const { store, calls } = recordingStore([recorded]);
    await expect(completeCheckout(store, recorded, outcome)).rejects.toThrow(/process died/);
    expect(calls[0]).toMatch(/^env\./);
  });

  it("counts a completing checkout's holds as in use and the cart as settling", () => {
    const line = { id: "line_2", reservation_id: "res_line" } as LineRow;
    const { store } = recordingStore(
      [
        paidCheckout({ completion: JSON.stringify(outcome) }),
        paidCheckout({ id: "chk_0", status: "failed" }),
      ],
      [line],
    );
    expect(holdsInUse(store)).toEqual({
      exists: true,
      reservation_ids: ["res_line", "res_1"],
      settling: true,
    });
  });
});
