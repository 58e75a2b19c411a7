import { asc, eq } from "drizzle-orm";
import { database } from "../../db/client";
import { orderTaxLines } from "../../db/schema";
import { newId } from "../lib/ids";
import type { Currency, Money } from "../lib/money";
import type { ParsedOrderDraft } from "./schemas";

/**
 * The condition every row of an order's batch is written under: the order with id `?1` exists,
 * so it is this call's (a replay for the same checkout inserted no order and writes nothing).
 */
export const IF_ORDER_IS_OURS = "EXISTS (SELECT 1 FROM orders WHERE id = ?1)";

/**
 * The order's tax lines, written in the order's own batch (conditional on the
 * order being this call's, like its lines), so an order never exists without the rates it
 * was charged at.
 */
export function orderTaxStatements(
  db: D1Database,
  orderId: string,
  draft: ParsedOrderDraft,
): D1PreparedStatement[] {
  const ifOurs = IF_ORDER_IS_OURS;
  return [
    ...draft.tax_lines.map((line) =>
      db
        .prepare(
          `INSERT INTO order_tax_lines (id, order_id, position, country, subdivision, tax_class, rate_bp,
             taxable_amount, amount, name, provider, provider_reference)
           SELECT ?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 WHERE ${ifOurs}`,
        )
        .bind(
          orderId,
          newId("txl"),
          line.position,
          line.country,
          line.subdivision,
          line.tax_class,
          line.rate_bp,
          line.taxable_amount,
          line.amount,
          line.name,
          line.provider,
          line.provider_reference,
        ),
    ),
  ];
}

export interface OrderTaxLineView {
  /** Position of the order line it taxes; null for shipping. */
  line: number | null;
  country: string;
  subdivision: string;
  tax_class: string;
  rate_bp: number;
  name: string;
  taxable_amount: Money;
  amount: Money;
  provider: "tables" | "stripe";
  provider_reference: string | null;
}

/** An order's tax lines query, for the order view's batch. */
export const taxLinesQuery = (env: Env, orderId: string) =>
  database(env.DB)
    .select()
    .from(orderTaxLines)
    .where(eq(orderTaxLines.orderId, orderId))
    .orderBy(asc(orderTaxLines.position), asc(orderTaxLines.id));

export function taxLineViews(
  rows: (typeof orderTaxLines.$inferSelect)[],
  currency: Currency,
): OrderTaxLineView[] {
  // SQLite sorts NULL first; receipts list the goods, then shipping.
  const sorted = [
    ...rows.filter((row) => row.position !== null),
    ...rows.filter((row) => row.position === null),
  ];
  return sorted.map((row) => ({
    line: row.position,
    country: row.country,
    subdivision: row.subdivision,
    tax_class: row.taxClass,
    rate_bp: row.rateBp,
    name: row.name,
    taxable_amount: { amount: row.taxableAmount, currency },
    amount: { amount: row.amount, currency },
    provider: row.provider,
    provider_reference: row.providerReference,
  }));
}
