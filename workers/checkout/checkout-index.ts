import { describeError, log } from "../lib/logging";

/*
 * D1's `checkout_index`: which cart a checkout belongs to (status routes, webhooks), which
 * payment is its own (`paymentOwnership`), and whether it still needs anything (the sweeper).
 * The cart object writes it; these are those writes.
 */

/**
 * Records a checkout in one write: which cart it belongs to (status routes, the sweeper) and,
 * once it exists, which payment is its own (webhooks act only on payments recorded here; a
 * shared Stripe account also carries other shops' payments). Written with the payment (the
 * provider commits it as a `PaymentRecord`: in the test payment's own transaction, right after
 * Stripe's answer) and before the shopper hears of the checkout, so nobody can pay a payment
 * that is not recorded. A checkout that never got that far (holds taken, then a crash) is its cart's
 * alarm's to give back; one whose payment could not be started is recorded without a payment,
 * so its status stays readable and the sweeper watches it. Repeating it is harmless.
 */
export async function indexCheckout(env: Env, checkout: IndexedCheckout): Promise<void> {
  await checkoutIndexStatement(env, checkout).run();
}

interface IndexedCheckout {
  id: string;
  cartId: string;
  createdAt: number;
  paymentId: string | null;
}

/** `indexCheckout`'s write, for a caller that commits it with the payment (`PaymentRecord`). */
export function checkoutIndexStatement(env: Env, checkout: IndexedCheckout): D1PreparedStatement {
  return env.DB.prepare(
    `INSERT INTO checkout_index (id, cart_id, created_at, payment_id) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (id) DO UPDATE SET payment_id = coalesce(excluded.payment_id, checkout_index.payment_id)`,
  ).bind(checkout.id, checkout.cartId, checkout.createdAt, checkout.paymentId);
}

/**
 * Tells D1's checkout index that this checkout needs nothing more (the sweeper stops asking).
 * Best effort: if D1 is unreachable the sweeper asks again and this runs again.
 */
export async function markSettled(env: Env, checkoutId: string): Promise<void> {
  try {
    await env.DB.prepare("UPDATE checkout_index SET settled_at = ?2 WHERE id = ?1 AND settled_at IS NULL")
      .bind(checkoutId, Date.now())
      .run();
  } catch (error) {
    log("warn", "checkout_settle_mark_failed", { checkout_id: checkoutId, ...describeError(error) });
  }
}
