import { cartStub } from "../cart/service";
import { reconcileCheckout } from "../checkout/sweeper";
import type { LedgerEntry, SkuLedger } from "../inventory/rpc";
import { getLedger, releaseReservation } from "../inventory/service";
import { newId } from "../lib/ids";
import { metricsFor } from "../lib/metrics";
import type { AuditReport, Discrepancy, RepairAction, RepairReport } from "./schemas";

/** How far back the auditor looks: orders, commits and charges of the last day. */
export const AUDIT_WINDOW_MS = 24 * 3600 * 1000;
/**
 * Anything younger than this is in flight (a checkout between its steps), not a discrepancy.
 * Well above a completion's duration and its alarm's retry delay.
 */
export const DEFAULT_MIN_AGE_MS = 60 * 1000;
/**
 * How old an orphaned hold must be before the cron releases it unattended. A hold is granted
 * before its cart records it (`createCart` holds every line's stock, then writes the cart
 * object; `addLine` holds, then inserts the line), so a young hold that no cart refers to may
 * simply have its cart's write in flight. `addLine`'s write runs inside the cart's exclusive
 * queue, which the re-check (`holdsInUse`) waits behind; `createCart`'s follows once the other
 * lines' holds answer, then the object's `create`, whose D1 read is bounded by the D1 deadline
 * (`D1_TIMEOUT_MS`, 5 s). Two minutes is far beyond that, and short beside a flash sale's hold
 * TTL (up to 20 min). Were a release ever to win that race anyway, the cart would have a line
 * whose hold lapsed, as after its TTL: checkout holds the units again or answers `sold_out`.
 */
export const ORPHANED_HOLD_GRACE_MS = 2 * 60 * 1000;
/** Commits can precede their order by a little: the ledger is read with this much slack. */
const LEDGER_SLACK_MS = 3600 * 1000;
const MAX_SKUS = 500;
const CONCURRENCY = 8;

interface OrderLineRow {
  order_id: string;
  checkout_id: string;
  status: string;
  flags: string;
  quantity: number;
  created_at: number;
}

async function mapLimit<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await task(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}

/** SKUs with recent stock or order activity (the reporting copy of levels, and order lines). */
async function activeSkus(env: Env, since: number): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `SELECT sku FROM inventory_levels WHERE updated_at >= ?1 OR reserved > 0
     UNION
     SELECT l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.created_at >= ?1
     ORDER BY sku LIMIT ?2`,
  )
    .bind(since, MAX_SKUS)
    .all<{ sku: string }>();
  return results.map((row) => row.sku);
}

const isRefunded = (line: OrderLineRow) =>
  line.status === "cancelled" || (JSON.parse(line.flags) as string[]).includes("stock_lost_refunded");

/** Committed units vs order lines, for one SKU. */
async function stockVsOrders(
  env: Env,
  ledger: SkuLedger,
  window: { since: number; ready: number },
): Promise<Discrepancy[]> {
  const { results: lines } = await env.DB.prepare(
    `SELECT o.id AS order_id, o.checkout_id, o.status, o.flags, l.quantity, o.created_at
     FROM order_lines l JOIN orders o ON o.id = l.order_id
     WHERE l.sku = ?1 AND o.created_at >= ?2`,
  )
    .bind(ledger.sku, window.since - LEDGER_SLACK_MS)
    .all<OrderLineRow>();
  const byCheckout = new Map<string, OrderLineRow[]>();
  for (const line of lines)
    byCheckout.set(line.checkout_id, [...(byCheckout.get(line.checkout_id) ?? []), line]);
  const committed = new Map<string, LedgerEntry[]>();
  for (const entry of ledger.entries) {
    if (entry.status !== "committed" || entry.order_id === null) continue;
    committed.set(entry.order_id, [...(committed.get(entry.order_id) ?? []), entry]);
  }
  const found: Discrepancy[] = [];
  for (const [checkoutId, entries] of committed) {
    const newest = Math.max(...entries.map((entry) => entry.updated_at));
    if (newest > window.ready) continue;
    const orderLines = byCheckout.get(checkoutId) ?? [];
    const quantity = entries.reduce((total, entry) => total + entry.quantity, 0);
    const order = orderLines[0];
    if (!order) {
      for (const entry of entries) {
        found.push({
          kind: "committed_without_order",
          sku: ledger.sku,
          checkout_id: checkoutId,
          reservation_id: entry.id,
          order_id: null,
          cart_id: entry.holder,
          payment_id: null,
          quantity: entry.quantity,
          repairable: true,
          detail: `${entry.quantity} unit(s) sold to checkout ${checkoutId}, which has no order.`,
        });
      }
    } else if (isRefunded(order)) {
      found.push({
        kind: "committed_for_refunded_order",
        sku: ledger.sku,
        checkout_id: checkoutId,
        reservation_id: entries[0]?.id ?? null,
        order_id: order.order_id,
        cart_id: entries[0]?.holder ?? null,
        payment_id: null,
        quantity,
        repairable: false,
        detail: `Order ${order.order_id} was ${order.status === "cancelled" ? "cancelled" : "refunded for lost stock"} but ${quantity} unit(s) are still sold to it.`,
      });
    }
  }
  for (const [checkoutId, orderLines] of byCheckout) {
    const live = orderLines.filter((line) => !isRefunded(line) && line.created_at >= window.since);
    const ordered = live.reduce((total, line) => total + line.quantity, 0);
    if (ordered === 0) continue;
    const sold = (committed.get(checkoutId) ?? []).reduce((total, entry) => total + entry.quantity, 0);
    if (sold >= ordered) continue;
    found.push({
      kind: "order_without_stock",
      sku: ledger.sku,
      checkout_id: checkoutId,
      reservation_id: null,
      order_id: live[0]?.order_id ?? null,
      cart_id: null,
      payment_id: null,
      quantity: ordered - sold,
      repairable: false,
      detail: `Order ${live[0]?.order_id} has ${ordered} unit(s) of ${ledger.sku}; ${sold} are committed to it.`,
    });
  }
  return found;
}

/** Held units whose cart neither has a line nor a live checkout relying on them. */
async function orphanedHolds(env: Env, ledger: SkuLedger, ready: number): Promise<Discrepancy[]> {
  const byCart = new Map<string, LedgerEntry[]>();
  for (const entry of ledger.entries) {
    if (entry.status !== "held" || !entry.holder.startsWith("cart_") || entry.created_at > ready) continue;
    byCart.set(entry.holder, [...(byCart.get(entry.holder) ?? []), entry]);
  }
  const found = await mapLimit([...byCart], async ([cartId, entries]) => {
    const stub = cartStub(env, cartId);
    const uses = stub ? await stub.holdsInUse() : { exists: false, reservation_ids: [], settling: false };
    if (uses.settling) return [];
    return entries
      .filter((entry) => !uses.reservation_ids.includes(entry.id))
      .map(
        (entry): Discrepancy => ({
          kind: "orphaned_hold",
          sku: ledger.sku,
          checkout_id: null,
          reservation_id: entry.id,
          order_id: null,
          cart_id: cartId,
          payment_id: null,
          quantity: entry.quantity,
          repairable: true,
          detail: uses.exists
            ? `Cart ${cartId} holds ${entry.quantity} unit(s) it no longer refers to.`
            : `${entry.quantity} unit(s) held for cart ${cartId}, which no longer exists.`,
        }),
      );
  });
  return found.flat();
}

/** Succeeded payments (the built-in test provider's, which live in D1) with no order. */
async function chargesWithoutOrder(
  env: Env,
  window: { since: number; ready: number },
): Promise<Discrepancy[]> {
  const { results } = await env.DB.prepare(
    `SELECT p.id, p.checkout_id, p.cart_id, p.amount FROM test_payments p
     WHERE p.status = 'succeeded' AND p.updated_at >= ?1 AND p.updated_at <= ?2
       AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.checkout_id = p.checkout_id)
     ORDER BY p.updated_at LIMIT 500`,
  )
    .bind(window.since, window.ready)
    .all<{ id: string; checkout_id: string; cart_id: string; amount: number }>();
  return results.map((row) => ({
    kind: "charge_without_order",
    sku: null,
    checkout_id: row.checkout_id,
    reservation_id: null,
    order_id: null,
    cart_id: row.cart_id,
    payment_id: row.id,
    quantity: null,
    repairable: true,
    detail: `Payment ${row.id} succeeded (${row.amount} minor units) but checkout ${row.checkout_id} has no order.`,
  }));
}

/**
 * Checks the invariants that tie stock, orders and payments together, per SKU with recent
 * activity (or the SKUs given): units committed in the inventory objects vs order lines in D1,
 * held units vs the carts and checkouts that rely on them, succeeded payments vs orders, and
 * each object's counters. Read-only.
 */
export async function runAudit(
  env: Env,
  options: { skus?: readonly string[]; minAgeMs?: number; now?: number } = {},
): Promise<AuditReport> {
  const now = options.now ?? Date.now();
  const since = now - AUDIT_WINDOW_MS;
  const ready = now - (options.minAgeMs ?? DEFAULT_MIN_AGE_MS);
  const skus = options.skus && options.skus.length > 0 ? [...options.skus] : await activeSkus(env, since);
  const perSku = await mapLimit(skus, async (sku) => {
    const ledger = await getLedger(env, sku, since - LEDGER_SLACK_MS);
    const found = [
      ...(await stockVsOrders(env, ledger, { since, ready })),
      ...(await orphanedHolds(env, ledger, ready)),
      ...ledger.violations.map(
        (violation): Discrepancy => ({
          kind: "counters",
          sku,
          checkout_id: null,
          reservation_id: null,
          order_id: null,
          cart_id: null,
          payment_id: null,
          quantity: null,
          repairable: false,
          detail: violation,
        }),
      ),
    ];
    const summary = {
      sku,
      on_hand: ledger.on_hand,
      available: ledger.available,
      reserved: ledger.reserved,
      sold: ledger.sold,
    };
    return { summary, found };
  });
  const discrepancies = [
    ...perSku.flatMap((s) => s.found),
    ...(await chargesWithoutOrder(env, { since, ready })),
  ];
  return {
    generated_at: new Date(now).toISOString(),
    window_hours: AUDIT_WINDOW_MS / 3600_000,
    min_age_seconds: Math.round((now - ready) / 1000),
    skus: perSku.map((s) => s.summary),
    discrepancies,
  };
}

/** Stores a run's findings in D1 and emits one `audit` metric point per kind found (and the total). */
export async function recordAudit(
  env: Env,
  trigger: "cron" | "admin" | "repair",
  report: AuditReport,
  startedAt: number,
): Promise<string> {
  const id = newId("aud");
  await env.DB.prepare(
    `INSERT INTO audit_runs (id, trigger, started_at, finished_at, skus, discrepancies, findings)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
  )
    .bind(
      id,
      trigger,
      startedAt,
      Date.now(),
      report.skus.length,
      report.discrepancies.length,
      JSON.stringify(report.discrepancies),
    )
    .run();
  const metrics = metricsFor(env);
  const kinds = new Map<string, number>();
  for (const d of report.discrepancies) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
  metrics.audit({ trigger, kind: "total", count: report.discrepancies.length });
  for (const [kind, count] of kinds) metrics.audit({ trigger, kind, count });
  return id;
}

/** One repair; safe to repeat (re-driving a completion and releasing a hold are idempotent). */
async function repairOne(env: Env, d: Discrepancy): Promise<RepairAction["result"]> {
  if (!d.repairable) return "not_repairable";
  if (d.kind === "orphaned_hold") {
    if (!d.cart_id || !d.reservation_id || !d.sku) return "not_repairable";
    // Look again: the cart may have taken the hold into a line or checkout since the audit.
    const uses = await cartStub(env, d.cart_id)?.holdsInUse();
    if (uses && (uses.settling || uses.reservation_ids.includes(d.reservation_id))) return "still_in_use";
    await releaseReservation(env, { sku: d.sku, reservationId: d.reservation_id });
    return "released_hold";
  }
  if (!d.checkout_id) return "not_repairable";
  const indexed = await env.DB.prepare("SELECT cart_id FROM checkout_index WHERE id = ?1")
    .bind(d.checkout_id)
    .first<{ cart_id: string }>();
  const cartId = indexed?.cart_id ?? d.cart_id;
  if (!cartId) return "not_repairable";
  const outcome = await reconcileCheckout(env, { id: d.checkout_id, cart_id: cartId });
  return outcome === "settled" ? "completion_redriven" : "pending";
}

/** Repairs each discrepancy (`repairOne`); one that throws is reported `failed`, the others go on. */
async function repairAll(env: Env, discrepancies: readonly Discrepancy[]): Promise<RepairAction[]> {
  return mapLimit(discrepancies, async (d): Promise<RepairAction> => {
    try {
      return { discrepancy: d, result: await repairOne(env, d) };
    } catch (error) {
      return {
        discrepancy: d,
        result: "failed",
        error: error instanceof Error ? error.message : String(error),
      };
    }
  });
}

/**
 * Audits, repairs every repairable discrepancy (re-drive the checkout's completion, release an
 * orphaned hold), then audits again. Idempotent: a second call finds nothing left to repair.
 */
export async function repairAudit(
  env: Env,
  options: { skus?: readonly string[]; minAgeMs?: number } = {},
): Promise<RepairReport> {
  const before = await runAudit(env, options);
  const actions = await repairAll(env, before.discrepancies);
  const started = Date.now();
  const after = await runAudit(env, options);
  await recordAudit(env, "repair", after, started);
  return { actions, after };
}

/**
 * The cron's unattended repair: releases the `orphaned_hold`s of `report`, each re-checked with
 * its cart right before (`repairOne`). Every other kind is left for a person. `report` must have
 * judged only holds past {@link ORPHANED_HOLD_GRACE_MS} (`runAudit`'s `minAgeMs`), so a hold
 * whose cart write is in flight is never among them. Idempotent, like every repair.
 */
export async function releaseOrphanedHolds(env: Env, report: AuditReport): Promise<RepairAction[]> {
  if (report.min_age_seconds * 1000 < ORPHANED_HOLD_GRACE_MS) {
    throw new Error(`an audit judging holds from ${report.min_age_seconds} s old cannot release them`);
  }
  return repairAll(
    env,
    report.discrepancies.filter((d) => d.kind === "orphaned_hold"),
  );
}
