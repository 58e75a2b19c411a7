import { cartStub } from "../cart/service";
import { describeError, log } from "../lib/logging";

/** A checkout younger than this is left to its own request, webhook and alarm. */
export const SWEEP_MIN_AGE_MS = 60 * 1000;
/** Checkouts asked per cron tick; the oldest first, the rest on the next tick. */
const SWEEP_BATCH = 100;
const SWEEP_CONCURRENCY = 8;

export interface SweepResult {
  checked: number;
  settled: number;
  pending: number;
  failed: number;
}

/**
 * Cron sweeper for checkouts that never settled: asks each one's cart object to finish what it
 * owes (`CartObject.reconcile`: re-drive a recorded completion, apply a payment the provider
 * says succeeded, expire a dead attempt). Covers what the cart's own alarm and the webhook
 * cannot: a lost alarm, a webhook that never comes (the test provider has none), a payment
 * that succeeded while the process that heard about it died.
 */
export async function sweepCheckouts(env: Env, now = Date.now()): Promise<SweepResult> {
  const { results } = await env.DB.prepare(
    `SELECT id, cart_id FROM checkout_index WHERE settled_at IS NULL AND created_at <= ?1
     ORDER BY created_at LIMIT ?2`,
  )
    .bind(now - SWEEP_MIN_AGE_MS, SWEEP_BATCH)
    .all<{ id: string; cart_id: string }>();
  const result: SweepResult = { checked: results.length, settled: 0, pending: 0, failed: 0 };
  let next = 0;
  const worker = async () => {
    for (let row = results[next++]; row; row = results[next++]) {
      try {
        const outcome = await reconcileCheckout(env, row);
        if (outcome === "settled") result.settled++;
        else result.pending++;
      } catch (error) {
        result.failed++;
        log("warn", "checkout_sweep_failed", { checkout_id: row.id, ...describeError(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, results.length) }, worker));
  return result;
}

/**
 * Asks the cart object of one checkout to finish it. A checkout its cart no longer knows (a
 * refused attempt, forgotten with nothing held) is marked settled here.
 */
export async function reconcileCheckout(
  env: Env,
  row: { id: string; cart_id: string },
): Promise<"settled" | "pending"> {
  const stub = cartStub(env, row.cart_id);
  const reconciled = stub ? await stub.reconcile(row.id) : null;
  if (reconciled?.ok) return reconciled.settled ? "settled" : "pending";
  if (reconciled === null || reconciled.reason === "checkout_not_found") {
    await env.DB.prepare("UPDATE checkout_index SET settled_at = ?2 WHERE id = ?1 AND settled_at IS NULL")
      .bind(row.id, Date.now())
      .run();
    return "settled";
  }
  return "pending";
}
