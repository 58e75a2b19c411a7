import { count, gte, isNull, sql } from "drizzle-orm";
import { database } from "../../db/client";
import { deadLetters, orders } from "../../db/schema";
import { circuitSnapshot } from "../lib/circuit-breaker";

export interface Overview {
  since: string;
  orders_today: number;
  revenue_today: { currency: string; gross: number; refunded: number; net: number; orders: number }[];
  dead_letters_pending: number;
  circuits: ReturnType<typeof circuitSnapshot>;
}

/** Midnight UTC of the day `now` falls in. */
export const startOfUtcDay = (now: number) => {
  const day = new Date(now);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
};

/**
 * Today's orders and revenue per currency (orders created since midnight UTC; refunds made
 * against them subtracted), dead letters awaiting replay, and this isolate's circuit breakers.
 */
export async function overview(env: Env, now = Date.now()): Promise<Overview> {
  const since = startOfUtcDay(now);
  const db = database(env.DB);
  const [revenue, pending] = await Promise.all([
    db
      .select({
        currency: orders.currency,
        orders: count(),
        gross: sql<number>`coalesce(sum(${orders.total}), 0)`,
        refunded: sql<number>`coalesce(sum(${orders.refundedTotal}), 0)`,
      })
      .from(orders)
      .where(gte(orders.createdAt, since))
      .groupBy(orders.currency)
      .orderBy(orders.currency),
    db.select({ n: count() }).from(deadLetters).where(isNull(deadLetters.replayedAt)),
  ]);
  return {
    since: new Date(since).toISOString(),
    orders_today: revenue.reduce((n, r) => n + r.orders, 0),
    revenue_today: revenue.map((r) => ({ ...r, net: r.gross - r.refunded })),
    dead_letters_pending: pending[0]?.n ?? 0,
    circuits: circuitSnapshot(),
  };
}
