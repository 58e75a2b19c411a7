import { desc, eq, inArray } from "drizzle-orm";
import { database } from "../../db/client";
import { promotions } from "../../db/schema";
import { newId } from "../lib/ids";
import { olderThan } from "../lib/keyset";
import type { Currency } from "../lib/money";
import type { PromotionRule } from "./rules";
import type { CreatePromotionBody, PromotionView } from "./schemas";

type PromotionRow = typeof promotions.$inferSelect;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toRule(row: PromotionRow): PromotionRule {
  return {
    id: row.id,
    code: row.code,
    type: row.type,
    percentageBp: row.percentageBp,
    amountOff: row.amountOff,
    currency: row.currency,
    minimumSubtotal: row.minimumSubtotal,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    usageLimit: row.usageLimit,
    perCustomerLimit: row.perCustomerLimit,
    timesUsed: row.timesUsed,
    active: row.active,
  };
}

function toView(row: PromotionRow): PromotionView {
  const currency = row.currency as Currency | null;
  return {
    id: row.id,
    code: row.code,
    type: row.type,
    percentage_bp: row.percentageBp,
    amount_off: row.amountOff !== null && currency ? { amount: row.amountOff, currency } : null,
    currency,
    minimum_subtotal:
      row.minimumSubtotal !== null && currency ? { amount: row.minimumSubtotal, currency } : null,
    starts_at: iso(row.startsAt),
    ends_at: iso(row.endsAt),
    usage_limit: row.usageLimit,
    per_customer_limit: row.perCustomerLimit,
    times_used: row.timesUsed,
    active: row.active,
    created_at: new Date(row.createdAt).toISOString(),
  };
}

/** Creates a code; refuses a code that already exists (codes are unique case-insensitively). */
export async function createPromotion(
  env: Env,
  body: CreatePromotionBody,
): Promise<{ ok: true; promotion: PromotionView } | { ok: false; reason: "code_taken" }> {
  const now = Date.now();
  const currency = body.amount_off?.currency ?? body.minimum_subtotal?.currency ?? null;
  const row: PromotionRow = {
    id: newId("promo"),
    code: body.code,
    type: body.type,
    percentageBp: body.percentage_bp ?? null,
    amountOff: body.amount_off?.amount ?? null,
    currency,
    minimumSubtotal: body.minimum_subtotal?.amount ?? null,
    startsAt: body.starts_at ? Date.parse(body.starts_at) : null,
    endsAt: body.ends_at ? Date.parse(body.ends_at) : null,
    usageLimit: body.usage_limit ?? null,
    perCustomerLimit: body.per_customer_limit ?? null,
    timesUsed: 0,
    active: body.active,
    createdAt: now,
    updatedAt: now,
  };
  const inserted = await database(env.DB)
    .insert(promotions)
    .values(row)
    .onConflictDoNothing({ target: promotions.code })
    .returning({ id: promotions.id });
  if (inserted.length === 0) return { ok: false, reason: "code_taken" };
  return { ok: true, promotion: toView(row) };
}

/**
 * Turns a code on or off. Off takes effect for new applications and checkouts at once; uses
 * already held by open checkouts stay valid (they were granted under the rules at the time).
 */
export async function setPromotionActive(
  env: Env,
  id: string,
  active: boolean,
): Promise<PromotionView | null> {
  const [row] = await database(env.DB)
    .update(promotions)
    .set({ active, updatedAt: Date.now() })
    .where(eq(promotions.id, id))
    .returning();
  return row ? toView(row) : null;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listPromotions(
  env: Env,
  page: { after: { created_at: number; id: string } | null; limit: number },
): Promise<{ data: PromotionView[]; last: { created_at: number; id: string } | null }> {
  const after = page.after;
  const rows = await database(env.DB)
    .select()
    .from(promotions)
    .where(olderThan(promotions.createdAt, promotions.id, after && { time: after.created_at, id: after.id }))
    .orderBy(desc(promotions.createdAt), desc(promotions.id))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  const tail = pageRows.at(-1);
  return {
    data: pageRows.map(toView),
    last: more && tail ? { created_at: tail.createdAt, id: tail.id } : null,
  };
}

/** The current rules for the given codes (unknown codes are simply absent). */
export async function loadPromotionRules(
  env: Env,
  codes: readonly string[],
): Promise<Map<string, PromotionRule>> {
  if (codes.length === 0) return new Map();
  const rows = await database(env.DB)
    .select()
    .from(promotions)
    .where(inArray(promotions.code, [...codes]));
  return new Map(rows.map((row) => [row.code, toRule(row)]));
}

/** Counts live (held or redeemed) uses of a promotion by one customer. */
export async function customerUses(env: Env, promotionId: string, email: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM promotion_redemptions WHERE promotion_id = ?1 AND email = ?2 AND status IN ('held', 'redeemed')",
  )
    .bind(promotionId, email.toLowerCase())
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export type HoldRefusal = "usage_limit_reached" | "customer_limit_reached" | "not_found";

/**
 * Takes one use of each promotion for a checkout, all or nothing.
 *
 * Each hold is one D1 batch (a single transaction): a conditional INSERT that only succeeds
 * while `times_used < usage_limit` and the customer is under their limit, then an UPDATE
 * that bumps `times_used` only if that very row was inserted. D1 serialises writes, so the
 * limit can never be exceeded however many checkouts race. Holding again for the same
 * checkout is a no-op (the live-use unique index), so retries are safe.
 */
export async function holdPromotionUses(
  env: Env,
  hold: { checkoutId: string; email: string; promotionIds: readonly string[] },
): Promise<{ ok: true } | { ok: false; reason: HoldRefusal; promotionId: string }> {
  const email = hold.email.toLowerCase();
  for (const promotionId of hold.promotionIds) {
    if (!(await holdOne(env, hold.checkoutId, email, promotionId))) {
      await releasePromotionUses(env, hold.checkoutId);
      return { ok: false, reason: await holdRefusalReason(env, promotionId), promotionId };
    }
  }
  return { ok: true };
}

/** One conditional hold; true when the checkout now holds (or already held) a live use. */
async function holdOne(env: Env, checkoutId: string, email: string, promotionId: string): Promise<boolean> {
  const redemptionId = newId("promo");
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO promotion_redemptions (id, promotion_id, checkout_id, email, status, created_at, updated_at)
       SELECT ?1, p.id, ?2, ?3, 'held', ?4, ?4 FROM promotions p
       WHERE p.id = ?5
         AND (p.usage_limit IS NULL OR p.times_used < p.usage_limit)
         AND (p.per_customer_limit IS NULL OR (
           SELECT count(*) FROM promotion_redemptions r
           WHERE r.promotion_id = p.id AND r.email = ?3 AND r.status IN ('held', 'redeemed')
         ) < p.per_customer_limit)
       ON CONFLICT (promotion_id, checkout_id) WHERE status IN ('held', 'redeemed') DO NOTHING`,
    ).bind(redemptionId, checkoutId, email, now, promotionId),
    env.DB.prepare(
      `UPDATE promotions SET times_used = times_used + 1, updated_at = ?2
       WHERE id = ?1 AND EXISTS (SELECT 1 FROM promotion_redemptions WHERE id = ?3)`,
    ).bind(promotionId, now, redemptionId),
  ]);
  const live = await env.DB.prepare(
    "SELECT 1 AS ok FROM promotion_redemptions WHERE promotion_id = ?1 AND checkout_id = ?2 AND status IN ('held', 'redeemed')",
  )
    .bind(promotionId, checkoutId)
    .first<{ ok: number }>();
  return live !== null;
}

async function holdRefusalReason(env: Env, promotionId: string): Promise<HoldRefusal> {
  const row = await env.DB.prepare(
    "SELECT usage_limit, times_used, per_customer_limit FROM promotions WHERE id = ?1",
  )
    .bind(promotionId)
    .first<{ usage_limit: number | null; times_used: number; per_customer_limit: number | null }>();
  if (!row) return "not_found";
  if (row.usage_limit !== null && row.times_used >= row.usage_limit) return "usage_limit_reached";
  if (row.per_customer_limit !== null) return "customer_limit_reached";
  return "usage_limit_reached";
}

/**
 * Gives back every use a checkout holds (failed, cancelled or expired payment). Redeemed
 * uses stay. The decrement and the status change are one transaction, and both only touch
 * rows still `held`, so releasing twice gives nothing back twice.
 */
export async function releasePromotionUses(env: Env, checkoutId: string): Promise<void> {
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      `UPDATE promotions SET times_used = times_used - (
         SELECT count(*) FROM promotion_redemptions r
         WHERE r.promotion_id = promotions.id AND r.checkout_id = ?1 AND r.status = 'held'
       ), updated_at = ?2
       WHERE id IN (SELECT promotion_id FROM promotion_redemptions WHERE checkout_id = ?1 AND status = 'held')`,
    ).bind(checkoutId, now),
    env.DB.prepare(
      "UPDATE promotion_redemptions SET status = 'released', updated_at = ?2 WHERE checkout_id = ?1 AND status = 'held'",
    ).bind(checkoutId, now),
  ]);
}

/**
 * Turns a checkout's held uses into redemptions (payment succeeded). Uses that were
 * released meanwhile (the payment outlived its window) are held again if the limit still
 * allows; the codes that could not be re-held are returned so the order can be flagged.
 */
export async function redeemPromotionUses(
  env: Env,
  redeem: { checkoutId: string; email: string; promotionIds: readonly string[] },
): Promise<{ overLimit: string[] }> {
  // Uses are only ever held for the checkout's own promotions: none, nothing to redeem.
  if (redeem.promotionIds.length === 0) return { overLimit: [] };
  const overLimit: string[] = [];
  for (const promotionId of redeem.promotionIds) {
    if (!(await holdOne(env, redeem.checkoutId, redeem.email.toLowerCase(), promotionId))) {
      overLimit.push(promotionId);
    }
  }
  await env.DB.prepare(
    "UPDATE promotion_redemptions SET status = 'redeemed', updated_at = ?2 WHERE checkout_id = ?1 AND status = 'held'",
  )
    .bind(redeem.checkoutId, Date.now())
    .run();
  return { overLimit };
}
