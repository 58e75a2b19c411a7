import { and, asc, desc, eq, gte, like } from "drizzle-orm";
import { database } from "../../db/client";
import { orderPayments, orderRefunds } from "../../db/schema";
import { idempotencyKeyReused } from "../lib/idempotency";
import { newId } from "../lib/ids";
import type { Currency, Money } from "../lib/money";
import { type ApiError, problems } from "../lib/problem";
import { type PaymentProvider, PaymentProviderError } from "../payments/provider";
import type { OrderView } from "./schemas";
import { findOrder, getOrder, publishQuietly, refundView } from "./service";

type OrderRow = NonNullable<Awaited<ReturnType<typeof findOrder>>>;
type RefundRow = typeof orderRefunds.$inferSelect;

const amountOf = (value: number | Money) => (typeof value === "number" ? value : value.amount);

/**
 * Re-derives the order's refund totals from its refund rows (idempotent), and its payment
 * status from the succeeded ones only: a pending refund already counts against what may be
 * refunded, but the order is not "refunded" until the provider says so.
 */
function recomputeRefunds(env: Env, orderId: string, now: number): D1PreparedStatement {
  return env.DB.prepare(
    `UPDATE orders SET updated_at = ?2,
       refunded_total = (SELECT COALESCE(SUM(amount), 0) FROM order_refunds WHERE order_id = ?1 AND status != 'failed'),
       payment_status = CASE (SELECT COALESCE(SUM(amount), 0) FROM order_refunds WHERE order_id = ?1 AND status = 'succeeded')
         WHEN 0 THEN 'paid' WHEN total THEN 'refunded' ELSE 'partially_refunded' END
     WHERE id = ?1`,
  ).bind(orderId, now);
}

/** Statuses a full refund may move an order from (see `lifecycle.ts`). */
const REFUNDABLE_STATUSES = ["paid", "fulfilling", "shipped", "delivered"] as const;

/**
 * Everything that follows a refund row changing, as statements for the same batch: totals
 * re-derived, the lifecycle moved to `refunded` once fully refunded, history entries and an
 * `order.refunded` outbox row for a succeeded refund. Ids are derived, so replays add nothing.
 */
function afterRefundChange(env: Env, orderId: string, refundId: string, now: number): D1PreparedStatement[] {
  const db = env.DB;
  return [
    recomputeRefunds(env, orderId, now),
    db
      .prepare(
        `UPDATE orders SET status = 'refunded' WHERE id = ?1 AND payment_status = 'refunded'
           AND status IN (${REFUNDABLE_STATUSES.map((st) => `'${st}'`).join(", ")})`,
      )
      .bind(orderId),
    db
      .prepare(
        `INSERT OR IGNORE INTO order_status_history (id, order_id, status, note, created_at)
         SELECT ?2 || ':' || r.status, ?1, o.payment_status,
           'refund ' || r.id || ' ' || r.status || ': ' || r.amount || ' ' || r.currency, ?3
         FROM order_refunds r JOIN orders o ON o.id = r.order_id WHERE r.id = ?2 AND r.status != 'pending'`,
      )
      .bind(orderId, refundId, now),
    db
      .prepare(
        `INSERT OR IGNORE INTO order_status_history (id, order_id, status, note, created_at)
         SELECT ?1 || ':refunded', ?1, 'refunded', 'fully refunded', ?2 FROM orders WHERE id = ?1 AND status = 'refunded'`,
      )
      .bind(orderId, now),
    db
      .prepare(
        `INSERT OR IGNORE INTO outbox (id, queue, type, aggregate_id, payload, created_at, send_attempts)
         SELECT ?3, 'ORDER_EVENTS', 'order.refunded', ?1,
           json_object('id', ?3, 'type', 'order.refunded', 'version', 1, 'occurred_at', ?4, 'order_id', ?1,
             'refund', json_object('refund_id', r.id, 'amount', r.amount, 'currency', r.currency),
             'fully_refunded', json(CASE o.payment_status WHEN 'refunded' THEN 'true' ELSE 'false' END)),
           ?5, 0
         FROM order_refunds r JOIN orders o ON o.id = r.order_id
         WHERE r.id = ?2 AND r.status = 'succeeded'`,
      )
      .bind(orderId, refundId, refundedEventId(refundId), new Date(now).toISOString(), now),
  ];
}

/** One `order.refunded` event per refund, its id derived from the refund's so it is written once. */
function refundedEventId(refundId: string): string {
  return `evt_${refundId.slice(-20)}`;
}

/**
 * Inserts a refund row only if it fits in what is left to refund (checked inside the same
 * statement), then re-derives the totals and reads the row for `key` back, all in one batch.
 */
async function reserveRefund(
  env: Env,
  r: {
    orderId: string;
    key: string;
    amount: number | null;
    status: "pending" | "succeeded";
    providerRefundId: string | null;
    reason: string | null;
    fingerprint?: string;
  },
): Promise<{ row: RefundRow | undefined; inserted: boolean }> {
  const now = Date.now();
  const refundId = newId("ref");
  const results = await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO order_refunds (id, order_id, idempotency_key, provider_refund_id, amount, currency, status, reason,
         created_at, updated_at, request_fingerprint)
       SELECT ?1, o.id, ?3, ?4, COALESCE(?5, o.total - o.refunded_total), o.currency, ?6, ?7, ?8, ?8, ?9 FROM orders o
       WHERE o.id = ?2 AND COALESCE(?5, o.total - o.refunded_total) > 0
         AND o.refunded_total + COALESCE(?5, o.total - o.refunded_total) <= o.total
       ON CONFLICT DO NOTHING`,
    ).bind(
      refundId,
      r.orderId,
      r.key,
      r.providerRefundId,
      r.amount,
      r.status,
      r.reason,
      now,
      r.fingerprint ?? null,
    ),
    ...afterRefundChange(env, r.orderId, refundId, now),
    env.DB.prepare("SELECT * FROM order_refunds WHERE order_id = ?1 AND idempotency_key = ?2").bind(
      r.orderId,
      r.key,
    ),
  ]);
  const insert = results[0];
  const found = results.at(-1);
  if (r.status === "succeeded" && (insert?.meta.changes ?? 0) > 0) {
    await publishQuietly(env, [refundedEventId(refundId)]);
  }
  const raw = found?.results[0] as Record<string, unknown> | undefined;
  const row: RefundRow | undefined = raw && {
    id: raw.id as string,
    orderId: raw.order_id as string,
    idempotencyKey: raw.idempotency_key as string,
    providerRefundId: (raw.provider_refund_id as string | null) ?? null,
    amount: raw.amount as number,
    currency: raw.currency as string,
    status: raw.status as RefundRow["status"],
    reason: (raw.reason as string | null) ?? null,
    requestFingerprint: (raw.request_fingerprint as string | null) ?? null,
    createdAt: raw.created_at as number,
    updatedAt: raw.updated_at as number,
  };
  return { row, inserted: (insert?.meta.changes ?? 0) > 0 };
}

function overRefund(order: OrderRow): ApiError {
  const refundable = { amount: order.total - order.refundedTotal, currency: order.currency };
  if (refundable.amount <= 0) {
    return problems.conflict("order_fully_refunded", `Order ${order.number} has nothing left to refund.`, {
      refundable,
    });
  }
  return problems.conflict(
    "refund_exceeds_refundable",
    `At most ${refundable.amount} can still be refunded.`,
    {
      refundable,
    },
  );
}

/**
 * Records a refund the caller already made with the provider (e.g. checkout's automatic
 * refund when stock was lost, or one made in the Stripe dashboard). Idempotent by
 * `refund_id`; refuses (409) a refund larger than what is left.
 */
export async function recordRefund(
  env: Env,
  r: { orderId: string; refund_id: string; amount: number | Money; reason?: string | null },
): Promise<OrderView> {
  const order = await findOrder(env, r.orderId);
  if (!order) throw problems.notFound("Order", "order_not_found");
  const amount = amountOf(r.amount);
  if (typeof r.amount !== "number" && r.amount.currency !== order.currency) {
    throw problems.validation([{ path: "amount.currency", message: `Must be ${order.currency}` }]);
  }
  const { row } = await reserveRefund(env, {
    orderId: order.id,
    key: `provider:${r.refund_id}`,
    amount,
    status: "succeeded",
    providerRefundId: r.refund_id,
    reason: r.reason ?? null,
  });
  if (!row) {
    // Already recorded under another key (e.g. the admin flow that issued it): not an error.
    const existing = await database(env.DB).query.orderRefunds.findFirst({
      where: eq(orderRefunds.providerRefundId, r.refund_id),
    });
    if (!existing) throw overRefund((await findOrder(env, order.id)) ?? order);
  }
  const view = await getOrder(env, order.id);
  if (!view) throw new Error(`order ${order.id} vanished`);
  return view;
}

/** Finds the order a provider payment paid for, if any. */
export async function findOrderIdByPayment(
  env: Env,
  provider: "stripe" | "test",
  paymentId: string,
): Promise<string | null> {
  const row = await database(env.DB).query.orderPayments.findFirst({
    where: and(eq(orderPayments.provider, provider), eq(orderPayments.paymentId, paymentId)),
  });
  return row?.orderId ?? null;
}

/**
 * Reconciles a Stripe `charge.refunded`: whatever Stripe has refunded beyond what the order
 * already accounts for (pending refunds included) is recorded, keyed by the event id.
 */
export async function reconcileProviderRefund(
  env: Env,
  r: { provider: "stripe" | "test"; paymentId: string; refundedAmount: number; eventId: string },
): Promise<{ orderId: string | null; recorded: number }> {
  const orderId = await findOrderIdByPayment(env, r.provider, r.paymentId);
  if (!orderId) return { orderId: null, recorded: 0 };
  const order = await findOrder(env, orderId);
  const delta = order ? r.refundedAmount - order.refundedTotal : 0;
  if (!order || delta <= 0) return { orderId, recorded: 0 };
  await recordRefund(env, {
    orderId,
    refund_id: r.eventId,
    amount: delta,
    reason: "refunded at the provider",
  });
  return { orderId, recorded: delta };
}

/** An un-keyed refund identical to one made this recently is taken for a double submit. */
const DOUBLE_SUBMIT_WINDOW_MS = 60_000;

/**
 * The key of a refund requested without an `Idempotency-Key`. An identical un-keyed refund
 * (same amount, or both "full") within the window is the same request: reuse its key. Else
 * the key names the refunded total seen, so two simultaneous submits (which both saw the
 * same total) collide on it too; the order row is read before the lookup, so whichever
 * reserves first is seen by the other in one of the two reads.
 */
async function derivedRefundKey(env: Env, order: OrderRow, amount: Money | undefined): Promise<string> {
  const prefix = `derived:${amount?.amount ?? "full"}:`;
  const recent = await database(env.DB).query.orderRefunds.findFirst({
    where: and(
      eq(orderRefunds.orderId, order.id),
      like(orderRefunds.idempotencyKey, `${prefix}%`),
      gte(orderRefunds.createdAt, Date.now() - DOUBLE_SUBMIT_WINDOW_MS),
    ),
    orderBy: desc(orderRefunds.createdAt),
  });
  return recent?.idempotencyKey ?? `${prefix}${order.refundedTotal}`;
}

const REFUSALS = new Set([
  "amount_too_large",
  "not_refundable",
  "invalid_request",
  "idempotency_conflict",
  "payment_not_found",
]);

/**
 * Refunds an order through its payment provider, fully (no amount) or partially. The refund is
 * first reserved in D1 against the refundable remainder, so concurrent refunds cannot exceed
 * it; the same `idempotencyKey` never refunds twice and replays the first result.
 */
export async function refundOrder(
  env: Env,
  provider: PaymentProvider,
  r: { orderId: string; amount?: Money; reason?: string; idempotencyKey?: string },
): Promise<{ refund: ReturnType<typeof refundView>; order: OrderView; created: boolean }> {
  const order = await findOrder(env, r.orderId);
  if (!order) throw problems.notFound("Order", "order_not_found");
  if (r.amount && r.amount.currency !== order.currency) {
    throw problems.validation([{ path: "body.amount.currency", message: `Must be ${order.currency}` }]);
  }
  if (r.amount && r.amount.amount <= 0) {
    throw problems.validation([{ path: "body.amount.amount", message: "Must be positive" }]);
  }
  const payment = await database(env.DB).query.orderPayments.findFirst({
    where: eq(orderPayments.orderId, order.id),
    orderBy: asc(orderPayments.createdAt),
  });
  if (!payment)
    throw problems.conflict("order_not_refundable", `Order ${order.number} has no payment to refund.`);
  if (payment.provider !== provider.name) {
    throw problems.conflict(
      "order_not_refundable",
      `Order was paid with ${payment.provider}, not ${provider.name}.`,
    );
  }
  const key = r.idempotencyKey ? `client:${r.idempotencyKey}` : await derivedRefundKey(env, order, r.amount);
  const fingerprint = JSON.stringify([
    r.amount?.amount ?? null,
    r.amount?.currency ?? null,
    r.reason ?? null,
  ]);
  const { row, inserted } = await reserveRefund(env, {
    orderId: order.id,
    key,
    amount: r.amount?.amount ?? null,
    status: "pending",
    providerRefundId: null,
    reason: r.reason ?? null,
    fingerprint,
  });
  // A client's key stands for one request: the same key with another body is refused, not
  // answered with the first refund (rows from before fingerprints compare by amount).
  if (
    row &&
    r.idempotencyKey &&
    (row.requestFingerprint === null
      ? r.amount !== undefined && row.amount !== r.amount.amount
      : row.requestFingerprint !== fingerprint)
  ) {
    throw idempotencyKeyReused("This Idempotency-Key was used for a different refund.");
  }
  if (!row) throw overRefund((await findOrder(env, order.id)) ?? order);
  if (row.status === "failed") {
    throw problems.conflict("refund_refused", "The payment provider refused this refund.", {
      refund_id: row.id,
    });
  }

  let final = row;
  if (row.status === "pending") {
    const now = Date.now();
    try {
      const result = await provider.refund({
        paymentId: payment.paymentId,
        amount: { amount: row.amount, currency: row.currency as Currency },
        idempotencyKey: `popcart:${order.id}:refund:${row.id}`,
        ...(row.reason ? { reason: row.reason } : {}),
      });
      await env.DB.batch([
        env.DB.prepare(
          "UPDATE order_refunds SET status = ?2, provider_refund_id = ?3, updated_at = ?4 WHERE id = ?1 AND status = 'pending'",
        ).bind(row.id, result.status, result.refund_id, now),
        ...afterRefundChange(env, order.id, row.id, now),
      ]);
      if (result.status === "succeeded") await publishQuietly(env, [refundedEventId(row.id)]);
    } catch (error) {
      if (!(error instanceof PaymentProviderError) || !REFUSALS.has(error.code)) {
        // The refund may or may not exist at the provider: keep it pending, so a retry with
        // the same key reuses the same provider idempotency key and settles it.
        throw problems.unavailable(
          "payment_provider_unavailable",
          "The payment provider did not answer; retry.",
          error instanceof PaymentProviderError ? (error.retryAfterSeconds ?? 5) : 5,
        );
      }
      await env.DB.batch([
        env.DB.prepare(
          "UPDATE order_refunds SET status = 'failed', updated_at = ?2 WHERE id = ?1 AND status = 'pending'",
        ).bind(row.id, now),
        ...afterRefundChange(env, order.id, row.id, now),
      ]);
      throw problems.conflict("refund_refused", `The payment provider refused the refund: ${error.message}`, {
        refund_id: row.id,
        provider_code: error.code,
      });
    }
    final =
      (await database(env.DB).query.orderRefunds.findFirst({ where: eq(orderRefunds.id, row.id) })) ?? row;
  }
  const view = await getOrder(env, order.id);
  if (!view) throw new Error(`order ${order.id} vanished`);
  return { refund: refundView(final), order: view, created: inserted };
}
