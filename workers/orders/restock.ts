import { and, eq, isNotNull } from "drizzle-orm";
import { database } from "../../db/client";
import { orderLines } from "../../db/schema";
import { returnCommitted } from "../inventory/service";
import { log } from "../lib/logging";

/**
 * Returns a cancelled order's sold units to stock through the inventory objects. Each line's
 * committed reservation is returned with a key derived from the order and line, so a repeated
 * cancellation (or a retry after a crash) never restocks twice.
 */
export async function restockOrder(env: Env, orderId: string): Promise<void> {
  const lines = await database(env.DB)
    .select({ id: orderLines.id, sku: orderLines.sku, reservationId: orderLines.reservationId })
    .from(orderLines)
    .where(and(eq(orderLines.orderId, orderId), isNotNull(orderLines.reservationId)));
  for (const line of lines) {
    if (!line.reservationId) continue;
    const result = await returnCommitted(env, {
      sku: line.sku,
      reservationId: line.reservationId,
      reason: `order ${orderId} cancelled`,
      key: `cancel:${orderId}:${line.id}`,
    });
    // Not committed (e.g. a stock-lost order whose units were never sold): nothing to return.
    if (!result.ok)
      log("warn", "restock_skipped", { order_id: orderId, sku: line.sku, reason: result.reason });
  }
  if (lines.length === 0) log("info", "restock_nothing_recorded", { order_id: orderId });
}
