import { and, asc, desc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { database, readAfter } from "../../db/client";
import {
  orderLines,
  orderPayments,
  orderRefunds,
  orderStatusHistory,
  orders,
  outbox,
  webhookDeliveries,
} from "../../db/schema";
import {
  type OutboxRow,
  publishClaimedOutbox,
  publishOutbox,
  publishWrittenOutbox,
  republishOutbox,
} from "../events/outbox";
import { sha256Hex, timingSafeEqualString } from "../lib/crypto";
import { newId, newSecret } from "../lib/ids";
import { olderThan } from "../lib/keyset";
import { describeError, log } from "../lib/logging";
import { metricsFor } from "../lib/metrics";
import type { Currency, Money } from "../lib/money";
import { problems } from "../lib/problem";
import { decodeCursor, encodeCursor } from "../lib/schemas";
import { HOLD_FULFILMENT_FLAGS, type OrderEvent, orderEventId, orderSnapshot } from "./events";
import {
  type AdminOrderView,
  type OrderDraft,
  OrderDraftSchema,
  type OrderListQuery,
  type OrderSummary,
  type OrderView,
} from "./schemas";

export type { OrderDraft, OrderView } from "./schemas";

import { IF_ORDER_IS_OURS, orderTaxStatements, taxLinesQuery, taxLineViews } from "./tax-lines";

/** First order number handed out: `PC-100001`. */
const FIRST_ORDER_NUMBER = 100_001;

type OrderRow = typeof orders.$inferSelect;
type RefundRow = typeof orderRefunds.$inferSelect;

const iso = (ms: number) => new Date(ms).toISOString();
const amountOf = (value: number | Money) => (typeof value === "number" ? value : value.amount);

export function refundView(row: RefundRow) {
  return {
    id: row.id,
    provider_refund_id: row.providerRefundId,
    amount: { amount: row.amount, currency: row.currency as Currency },
    status: row.status,
    reason: row.reason,
    created_at: iso(row.createdAt),
  };
}

/**
 * The queries behind an order's view, for the order `id` names (an id, or a subquery that
 * yields one), so a caller can put them in the same round trip as the order row itself.
 */
function orderViewQueries(env: Env, id: string) {
  const db = database(env.DB);
  return [
    db.select().from(orderLines).where(eq(orderLines.orderId, id)).orderBy(asc(orderLines.position)),
    db
      .select()
      .from(orderPayments)
      .where(eq(orderPayments.orderId, id))
      .orderBy(asc(orderPayments.createdAt)),
    db.select().from(orderRefunds).where(eq(orderRefunds.orderId, id)).orderBy(asc(orderRefunds.createdAt)),
    taxLinesQuery(env, id),
  ] as const;
}

type OrderViewParts = [
  (typeof orderLines.$inferSelect)[],
  (typeof orderPayments.$inferSelect)[],
  RefundRow[],
  Parameters<typeof taxLineViews>[0],
];

async function loadOrderView(env: Env, order: OrderRow): Promise<OrderView> {
  return orderView(order, [...(await database(env.DB).batch(orderViewQueries(env, order.id)))]);
}

function orderView(order: OrderRow, [lines, payments, refunds, taxRows]: OrderViewParts): OrderView {
  const currency = order.currency as Currency;
  const m = (amount: number): Money => ({ amount, currency });
  return {
    id: order.id,
    number: order.number,
    status: order.status,
    payment_status: order.paymentStatus,
    checkout_id: order.checkoutId,
    cart_id: order.cartId,
    email: order.email,
    currency,
    lines: lines.map((line) => ({
      id: line.id,
      sku: line.sku,
      variant_id: line.variantId,
      product_id: line.productId,
      title: line.title,
      variant_title: line.variantTitle,
      quantity: line.quantity,
      unit_price: m(line.unitPrice),
      discount: m(line.discount),
      tax: m(line.tax),
      total: m(line.total),
    })),
    subtotal: m(order.subtotal),
    discount_total: m(order.discountTotal),
    shipping_total: m(order.shippingTotal),
    tax_total: m(order.taxTotal),
    total: m(order.total),
    refunded_total: m(order.refundedTotal),
    tax_inclusive: order.taxInclusive,
    region: order.regionCode ?? null,
    tax_lines: taxLineViews(taxRows, currency),
    shipping_address: order.shippingAddress ?? null,
    shipping_method: { ...order.shippingMethod, amount: m(order.shippingMethod.amount) },
    promotion_codes: order.promotionCodes,
    flags: order.flags,
    payments: payments.map((p) => ({
      provider: p.provider,
      payment_id: p.paymentId,
      amount: { amount: p.amount, currency: p.currency as Currency },
      status: p.status,
      created_at: iso(p.createdAt),
    })),
    refunds: refunds.map(refundView),
    created_at: iso(order.createdAt),
    updated_at: iso(order.updatedAt),
  };
}

export async function findOrder(env: Env, orderId: string): Promise<OrderRow | undefined> {
  return database(env.DB).query.orders.findFirst({ where: eq(orders.id, orderId) });
}

/** The order as staff see it, or null. */
export async function getOrder(env: Env, orderId: string): Promise<OrderView | null> {
  const row = await findOrder(env, orderId);
  return row ? loadOrderView(env, row) : null;
}

export interface PlaceOrderOptions {
  /**
   * The order is all its checkout still owes: mark `checkout_index.settled_at` in the same
   * batch (the checkout sweeper stops asking), instead of a write of its own afterwards.
   */
  settlesCheckout?: boolean;
  /**
   * The caller re-runs this until it returns, across crashes (a checkout's completion: its
   * intent and alarm are durable before this is called). The order's events are then written
   * already claimed and sent right after the batch, with no sent mark to write afterwards
   * (one D1 write per order fewer); a re-run that finds the order sends them again. Only a
   * failed send hands them to the outbox sweeper. Without it, the sweeper owns them until
   * they are marked sent.
   */
  claimEvents?: boolean;
}

/**
 * Writes an order for a paid checkout, exactly once. Idempotent by `draft.checkout_id`:
 * the sequence bump, order, lines, payment record and first status entry are one D1 batch
 * (one transaction) whose every statement is conditional on no order existing for the
 * checkout, so concurrent calls for the same checkout yield one order and one number.
 *
 * `lookup_token` is the guest token in clear: the draft's own when it passed one, a new one
 * when this call created the order, and null on a replay without a draft token (it is only
 * stored hashed).
 *
 * Returns the order's row, not its view: a checkout's completion needs the id and number only,
 * so the lines, payments and taxes are not read back on the hot path ({@link placeOrder} does).
 */
export async function writeOrder(
  env: Env,
  input: OrderDraft,
  options: PlaceOrderOptions = {},
): Promise<{ order: OrderRow; created: boolean; lookup_token: string | null }> {
  const draft = OrderDraftSchema.parse(input);
  const orderId = newId("ord");
  const token = draft.lookup_token ?? newSecret();
  const tokenHash = await sha256Hex(token);
  const now = Date.now();
  const paymentAmount = amountOf(draft.payment.amount);
  const snapshot = orderSnapshot({
    number: "",
    email: draft.email.trim().toLowerCase(),
    currency: draft.currency,
    total: draft.total,
    lines: draft.lines,
    shipping_address: draft.shipping_address,
    shipping_method: draft.shipping_method,
  });
  // The order is written once its payment succeeded, so it is placed and paid at once;
  // an order held back from fulfilment is announced but never reported paid to it.
  const hold = draft.flags.some((flag) => (HOLD_FULFILMENT_FLAGS as readonly string[]).includes(flag));
  const occurredAt = new Date(now).toISOString();
  const events: OrderEvent[] = [
    {
      id: await orderEventId(orderId, "order.placed"),
      type: "order.placed",
      version: 1,
      occurred_at: occurredAt,
      order_id: orderId,
      order: snapshot,
    },
  ];
  if (!hold) {
    events.push({
      id: await orderEventId(orderId, "order.paid"),
      type: "order.paid",
      version: 1,
      occurred_at: occurredAt,
      order_id: orderId,
      payment: {
        provider: draft.payment.provider,
        payment_id: draft.payment.payment_id,
        amount: paymentAmount,
      },
      order: snapshot,
    });
  }
  const claimed = options.claimEvents ? now : null;
  const notExists = "NOT EXISTS (SELECT 1 FROM orders WHERE checkout_id = ?1)";
  const ifOurs = IF_ORDER_IS_OURS;
  const db = env.DB;

  const statements = [
    db
      .prepare(
        `INSERT INTO sequences (name, value) SELECT 'orders', ?2 WHERE ${notExists}
         ON CONFLICT(name) DO UPDATE SET value = value + 1`,
      )
      .bind(draft.checkout_id, FIRST_ORDER_NUMBER),
    db
      .prepare(
        `INSERT INTO orders (id, number, checkout_id, cart_id, status, payment_status, email, currency,
           subtotal, discount_total, shipping_total, tax_total, total, refunded_total, tax_inclusive,
           shipping_address, shipping_method, promotion_codes, flags, lookup_token_hash, created_at, updated_at,
           region_code)
         SELECT ?2, 'PC-' || (SELECT value FROM sequences WHERE name = 'orders'), ?1, ?3, 'paid', 'paid', ?4, ?5,
           ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17, ?18
         WHERE ${notExists}`,
      )
      .bind(
        draft.checkout_id,
        orderId,
        draft.cart_id,
        draft.email.trim().toLowerCase(),
        draft.currency,
        draft.subtotal,
        draft.discount_total,
        draft.shipping_total,
        draft.tax_total,
        draft.total,
        draft.tax_inclusive ? 1 : 0,
        draft.shipping_address === null ? null : JSON.stringify(draft.shipping_address),
        JSON.stringify({ ...draft.shipping_method, amount: amountOf(draft.shipping_method.amount) }),
        JSON.stringify(draft.promotion_codes),
        JSON.stringify(draft.flags),
        tokenHash,
        now,
        draft.region_code,
      ),
    ...draft.lines.map((line, position) =>
      db
        .prepare(
          `INSERT INTO order_lines (id, order_id, position, sku, variant_id, product_id, title, variant_title,
             quantity, unit_price, discount, tax, total, reservation_id)
           SELECT ?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14 WHERE ${ifOurs}`,
        )
        .bind(
          orderId,
          newId("line"),
          position,
          line.sku,
          line.variant_id,
          line.product_id,
          line.title,
          line.variant_title,
          line.quantity,
          line.unit_price,
          line.discount,
          line.tax,
          line.total,
          line.reservation_id ?? null,
        ),
    ),
    db
      .prepare(
        `INSERT INTO order_payments (id, order_id, provider, payment_id, amount, currency, status, created_at)
         SELECT ?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8 WHERE ${ifOurs}`,
      )
      .bind(
        orderId,
        newId("pay"),
        draft.payment.provider,
        draft.payment.payment_id,
        paymentAmount,
        draft.currency,
        draft.payment.status,
        now,
      ),
    // Placed, then paid: one statement (every statement of a batch is a result carried back).
    db
      .prepare(
        `INSERT INTO order_status_history (id, order_id, status, note, created_at)
         SELECT ?1 || ':placed', ?1, 'placed', ?2, ?4 WHERE ${ifOurs}
         UNION ALL SELECT ?1 || ':paid', ?1, 'paid', ?3, ?4 WHERE ${ifOurs}`,
      )
      .bind(
        orderId,
        draft.flags.length > 0 ? `flags: ${draft.flags.join(", ")}` : null,
        `${draft.payment.provider} payment ${draft.payment.payment_id}`,
        now,
      ),
    // The events in one statement. The number is only known inside the batch, so it is
    // written into each payload there.
    db
      .prepare(
        `INSERT INTO outbox (id, queue, type, aggregate_id, payload, created_at, sent_at, send_attempts)
         SELECT json_extract(e.value, '$.id'), 'ORDER_EVENTS', json_extract(e.value, '$.type'), ?1,
           json_set(e.value, '$.order.order_number', (SELECT number FROM orders WHERE id = ?1)), ?3, ?4, 0
         FROM json_each(?2) AS e
         WHERE ${ifOurs} ON CONFLICT(id) DO NOTHING`,
      )
      .bind(orderId, JSON.stringify(events), now, claimed),
    ...orderTaxStatements(db, orderId, draft),
    ...(options.settlesCheckout
      ? [
          db
            .prepare("UPDATE checkout_index SET settled_at = ?2 WHERE id = ?1 AND settled_at IS NULL")
            .bind(draft.checkout_id, now),
        ]
      : []),
  ];
  // The writes, then the order (this call's or an earlier one's): one transaction and one
  // round trip to the primary.
  const [[row]] = await readAfter(db, statements, [
    database(db).select().from(orders).where(eq(orders.checkoutId, draft.checkout_id)),
  ]);
  if (!row) throw new Error(`order for checkout ${draft.checkout_id} missing after batch`);
  const created = row.id === orderId;
  if (created && hold) {
    // Held orders wait for a person: say so loudly, once, when the order is written.
    log("error", "order_held_from_fulfilment", { order_id: row.id, number: row.number, flags: draft.flags });
    metricsFor(env).alert({
      name: "order_held_from_fulfilment",
      subject: row.number,
      reason: draft.flags.join(","),
    });
  }
  if (created) {
    // The rows were written just now with these payloads (the number filled in by the batch):
    // send them as they are rather than reading them back.
    const written: OutboxRow[] = events.map((event) => ({
      id: event.id,
      queue: "ORDER_EVENTS",
      type: event.type,
      aggregateId: row.id,
      payload: JSON.stringify(
        "order" in event ? { ...event, order: { ...event.order, order_number: row.number } } : event,
      ),
      createdAt: now,
      sentAt: claimed,
      sendAttempts: 0,
      lastError: null,
    }));
    if (options.claimEvents) await publishClaimedOutbox(env, written);
    else await publishQuietly(env, written);
  } else if (options.claimEvents) {
    // A re-run: the first run may have died between its batch and its send (an event it never
    // wrote, `order.paid` of a held order, is simply not found).
    const types = ["order.placed", "order.paid"] as const;
    await republishOutbox(env, await Promise.all(types.map((type) => orderEventId(row.id, type))));
  }
  return { order: row, created, lookup_token: created || draft.lookup_token ? token : null };
}

/** {@link writeOrder}, then the order's whole view (one more read). */
export async function placeOrder(
  env: Env,
  input: OrderDraft,
  options: PlaceOrderOptions = {},
): Promise<{ order: OrderView; created: boolean; lookup_token: string | null }> {
  const written = await writeOrder(env, input, options);
  return { ...written, order: await loadOrderView(env, written.order) };
}

/**
 * Sends freshly written outbox rows now (by id, or as written when their content is known);
 * if that fails the cron sweeper sends them later.
 */
export async function publishQuietly(env: Env, rows: readonly string[] | OutboxRow[]): Promise<void> {
  try {
    if (rows.every((row): row is string => typeof row === "string")) await publishOutbox(env, rows);
    else await publishWrittenOutbox(env, rows as OutboxRow[]);
  } catch (error) {
    const ids = rows.map((row) => (typeof row === "string" ? row : row.id));
    log("warn", "order_event_publish_deferred", { event_ids: ids, ...describeError(error) });
  }
}

// Compared against when the order does not exist, so a miss costs the same as a wrong token.
const ABSENT_HASH = "0".repeat(64);

/** The order for a guest holding its lookup token; null for an unknown id or a wrong token alike. */
export async function getOrderForGuest(env: Env, orderId: string, token: string): Promise<OrderView | null> {
  const [row, presented] = await Promise.all([findOrder(env, orderId), sha256Hex(token)]);
  const matches = await timingSafeEqualString(presented, row?.lookupTokenHash ?? ABSENT_HASH);
  return row && matches ? loadOrderView(env, row) : null;
}

/** The order with its status history, events and fulfilment deliveries, for the admin API. */
export async function getAdminOrder(env: Env, orderId: string): Promise<AdminOrderView | null> {
  const row = await findOrder(env, orderId);
  if (!row) return null;
  const db = database(env.DB);
  const [view, [history, events, deliveries]] = await Promise.all([
    loadOrderView(env, row),
    db.batch([
      db
        .select()
        .from(orderStatusHistory)
        .where(eq(orderStatusHistory.orderId, orderId))
        // rowid: entries written in one batch share a timestamp; insertion order breaks the tie.
        .orderBy(asc(orderStatusHistory.createdAt), asc(sql`rowid`)),
      db
        .select()
        .from(outbox)
        .where(eq(outbox.aggregateId, orderId))
        .orderBy(asc(outbox.createdAt), asc(sql`rowid`)),
      db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.orderId, orderId))
        .orderBy(asc(webhookDeliveries.createdAt)),
    ]),
  ]);
  return {
    ...view,
    status_history: history.map((h) => ({ status: h.status, note: h.note, created_at: iso(h.createdAt) })),
    events: events.map((e) => ({
      id: e.id,
      type: e.type,
      created_at: iso(e.createdAt),
      sent_at: e.sentAt === null ? null : iso(e.sentAt),
      send_attempts: e.sendAttempts,
    })),
    deliveries: deliveries.map((d) => ({
      event_id: d.eventId,
      event_type: d.eventType,
      url: d.url,
      attempt: d.attempt,
      status_code: d.statusCode,
      ok: d.ok,
      error: d.error,
      created_at: iso(d.createdAt),
    })),
  };
}

const ListCursor = z.object({ c: z.number().int(), i: z.string() });

/** Newest first, filtered, keyset-paginated on (created_at, id) so pages never skip or repeat. */
export async function listOrders(
  env: Env,
  query: OrderListQuery,
): Promise<{ items: OrderSummary[]; next_cursor: string | null }> {
  const filters: (SQL | undefined)[] = [];
  if (query.status) filters.push(eq(orders.status, query.status));
  if (query.payment_status) filters.push(eq(orders.paymentStatus, query.payment_status));
  if (query.email) filters.push(eq(orders.email, query.email.trim().toLowerCase()));
  if (query.created_from) filters.push(gte(orders.createdAt, Date.parse(query.created_from)));
  if (query.created_to) filters.push(lt(orders.createdAt, Date.parse(query.created_to)));
  if (query.cursor) {
    const cursor = decodeCursor(query.cursor, ListCursor);
    if (!cursor) throw problems.validation([{ path: "query.cursor", message: "Invalid cursor" }]);
    filters.push(olderThan(orders.createdAt, orders.id, { time: cursor.c, id: cursor.i }));
  }
  const rows = await database(env.DB)
    .select()
    .from(orders)
    .where(and(...filters))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((o) => ({
      id: o.id,
      number: o.number,
      status: o.status,
      payment_status: o.paymentStatus,
      email: o.email,
      total: { amount: o.total, currency: o.currency as Currency },
      refunded_total: { amount: o.refundedTotal, currency: o.currency as Currency },
      flags: o.flags,
      created_at: iso(o.createdAt),
    })),
    next_cursor: rows.length > query.limit && last ? encodeCursor({ c: last.createdAt, i: last.id }) : null,
  };
}
