import { cartStub } from "../cart/service";
import { describeError, log } from "../lib/logging";

/** A checkout younger than this is left to its own request, webhook and alarm. */
export const SWEEP_MIN_AGE_MS = 60 * 1000;
/** Checkouts asked per cron tick: never-asked ones first (oldest first), the rest on later ticks. */
const SWEEP_BATCH = 100;
const SWEEP_CONCURRENCY = 8;
/**
 * A checkout found still pending (its payment window open, or its cart unreachable) is asked
 * again after this long. Without it the oldest pending checkouts would take every tick's batch
 * for as long as their windows stay open (15 minutes), and a paid checkout behind them would
 * wait that long for its order.
 */
export const SWEEP_RETRY_MS = 3 * 60 * 1000;

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
export async function sweepCheckouts(
  env: Env,
  now = Date.now(),
  options: { batch?: number } = {},
): Promise<SweepResult> {
  // Never-asked checkouts sort first (NULL), then those whose retry time came longest ago.
  const { results } = await env.DB.prepare(
    `SELECT id, cart_id FROM checkout_index
     WHERE settled_at IS NULL AND created_at <= ?1 AND (next_sweep_at IS NULL OR next_sweep_at <= ?2)
     ORDER BY next_sweep_at, created_at LIMIT ?3`,
  )
    .bind(now - SWEEP_MIN_AGE_MS, now, options.batch ?? SWEEP_BATCH)
    .all<{ id: string; cart_id: string }>();
  const result: SweepResult = { checked: results.length, settled: 0, pending: 0, failed: 0 };
  const unsettled: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let row = results[next++]; row; row = results[next++]) {
      try {
        const outcome = await reconcileCheckout(env, row);
        if (outcome === "settled") result.settled++;
        else {
          result.pending++;
          unsettled.push(row.id);
        }
      } catch (error) {
        result.failed++;
        unsettled.push(row.id);
        log("warn", "checkout_sweep_failed", { checkout_id: row.id, ...describeError(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, results.length) }, worker));
  if (unsettled.length > 0) {
    // To the back of the line: the next ticks ask the checkouts not asked yet.
    await env.DB.prepare(
      "UPDATE checkout_index SET next_sweep_at = ?1 WHERE id IN (SELECT value FROM json_each(?2))",
    )
      .bind(now + SWEEP_RETRY_MS, JSON.stringify(unsettled))
      .run();
  }
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
