import { applyBasisPoints, type Currency } from "../lib/money";

/** A promotion as pricing sees it: what it takes off and when it may be used. */
export interface PromotionRule {
  id: string;
  code: string;
  type: "percentage" | "fixed_amount";
  percentageBp: number | null;
  amountOff: number | null;
  currency: string | null;
  minimumSubtotal: number | null;
  startsAt: number | null;
  endsAt: number | null;
  usageLimit: number | null;
  perCustomerLimit: number | null;
  timesUsed: number;
  active: boolean;
}

/** Why a code attached to a cart does not (currently) take anything off. */
export type PromotionIneligibility =
  | "inactive"
  | "not_started"
  | "expired"
  | "currency_mismatch"
  | "minimum_subtotal_not_met"
  | "usage_limit_reached";

export type PromotionEvaluation =
  | { applies: true; discount: number }
  | { applies: false; reason: PromotionIneligibility; discount: 0 };

/**
 * Decides whether `rule` applies to a subtotal and how much it takes off (never more than
 * the subtotal). The global usage limit here is advisory (what the shopper is told while
 * browsing); the exact check is the D1 hold at checkout.
 */
export function evaluatePromotion(
  rule: PromotionRule,
  cart: { subtotal: number; currency: Currency; now: number },
): PromotionEvaluation {
  const refuse = (reason: PromotionIneligibility) => ({ applies: false, reason, discount: 0 }) as const;
  if (!rule.active) return refuse("inactive");
  if (rule.startsAt !== null && cart.now < rule.startsAt) return refuse("not_started");
  if (rule.endsAt !== null && cart.now >= rule.endsAt) return refuse("expired");
  if (rule.currency !== null && rule.currency !== cart.currency) return refuse("currency_mismatch");
  if (rule.usageLimit !== null && rule.timesUsed >= rule.usageLimit) return refuse("usage_limit_reached");
  if (rule.minimumSubtotal !== null && cart.subtotal < rule.minimumSubtotal) {
    return refuse("minimum_subtotal_not_met");
  }
  const raw =
    rule.type === "percentage"
      ? applyBasisPoints(cart.subtotal, rule.percentageBp ?? 0)
      : (rule.amountOff ?? 0);
  return { applies: true, discount: Math.min(raw, cart.subtotal) };
}
