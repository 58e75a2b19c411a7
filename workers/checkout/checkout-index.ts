import { describeError, log } from "../lib/logging";

/*
 * D1's `checkout_index`: which cart a checkout belongs to (status routes, webhooks), which
 * payment is its own (`paymentOwnership`), and whether it still needs anything (the sweeper).
 * The cart object writes it; these are those writes.
 */

/** Records a checkout before anything is held for it, so the sweeper can always find it. */
export async function indexCheckout(
  env: Env,
  checkout: { id: string; cartId: string; createdAt: number },
): Promise<void> {
  await env.DB.prepare(
    "INSERT INTO checkout_index (id, cart_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
  )
    .bind(checkout.id, checkout.cartId, checkout.createdAt)
    .run();
}

/**
 * Provider events are acted on only for payments recorded here (a shared Stripe account also
 * carries other shops' payments). A retry records the same id again.
 */
export async function indexPayment(env: Env, checkoutId: string, paymentId: string): Promise<void> {
  await env.DB.prepare("UPDATE checkout_index SET payment_id = ?1 WHERE id = ?2")
    .bind(paymentId, checkoutId)
    .run();
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
