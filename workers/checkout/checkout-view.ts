import type { CheckoutRow } from "../../durable-objects/cart-storage";
import { taxLines } from "../cart/region-view";
import { newSecret } from "../lib/ids";
import type { CheckoutStatus, CheckoutView } from "./schemas";
import { type CheckoutSnapshot, snapshotTaxParts } from "./snapshot";
import type { CheckoutStore } from "./store";

const iso = (ms: number) => new Date(ms).toISOString();

/** The guest lookup token for the checkout's order: chosen once, stored so replays can show it. */
export function lookupToken(store: CheckoutStore, row: CheckoutRow): string {
  const existing = store.orderToken(row.id);
  if (existing) return existing;
  const token = newSecret();
  store.saveOrderToken(row.id, token);
  return token;
}

/** A checkout as its shopper sees it (a `pending` one is still awaiting its payment). */
export function checkoutView(store: CheckoutStore, row: CheckoutRow): CheckoutView {
  const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
  const m = (amount: number) => ({ amount, currency: snapshot.currency });
  const order = row.order_id ? (JSON.parse(row.order_id) as { id: string; number: string }) : null;
  const status: CheckoutStatus =
    row.status === "pending" ? "awaiting_payment" : (row.status as CheckoutStatus);
  return {
    id: row.id,
    cart_id: snapshot.cart_id,
    status,
    payment:
      row.provider && row.payment_id
        ? {
            provider: row.provider as "stripe" | "test",
            payment_id: row.payment_id,
            client_secret: status === "completed" ? null : row.client_secret,
            next_action: row.next_action
              ? (JSON.parse(row.next_action) as { type: string; url?: string })
              : null,
          }
        : null,
    lines: snapshot.lines.map((line) => ({
      sku: line.sku,
      quantity: line.quantity,
      unit_price: m(line.unit_price),
      total: m(line.total),
    })),
    totals: {
      subtotal: m(snapshot.subtotal),
      discount: m(snapshot.discount),
      shipping: m(snapshot.shipping),
      tax: m(snapshot.tax),
      total: m(snapshot.total),
      tax_inclusive: snapshot.tax_inclusive,
      tax_lines: taxLines(snapshotTaxParts(snapshot), snapshot.currency),
    },
    order: order ? { ...order, lookup_token: lookupToken(store, row) } : null,
    failure: row.failure ? (JSON.parse(row.failure) as { code: string; message: string }) : null,
    expires_at: iso(row.expires_at),
    created_at: iso(row.created_at),
  };
}
