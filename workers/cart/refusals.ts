import type { CartRow } from "../../durable-objects/cart-storage";
import { joinPath } from "../waiting-room/admission";
import { shippingUnavailable } from "./cart-rules";
import type { LineHold } from "./line-stock";
import type { Address } from "./schemas";

/*
 * Why the cart object refuses a request, as values returned across RPC (exceptions are for
 * bugs); workers/cart/problems.ts turns each reason into its problem+json answer.
 */

export type CartRefusalReason =
  | "cart_not_found"
  | "cart_locked"
  | "unknown_sku"
  | "sku_unavailable"
  | "sold_out"
  | "sale_not_started"
  | "sale_ended"
  | "purchase_limit_exceeded"
  | "quantity_limit_exceeded"
  | "too_many_lines"
  | "line_total_too_large"
  | "line_not_found"
  | "address_outside_region"
  | "unknown_shipping_method"
  | "shipping_method_unavailable"
  | "tax_provider_unavailable"
  | "tax_calculation_failed"
  | "promotion_invalid"
  | "too_many_promotions"
  | "promotion_not_on_cart"
  | "checkout_not_found"
  | "checkout_in_progress"
  | "checkout_incomplete"
  | "cart_empty"
  | "cart_total_too_large"
  | "promotion_unavailable"
  | "payment_provider_unavailable"
  | "database_unavailable"
  | "confirmation_not_supported"
  | "card_invalid"
  | "rate_limited"
  | "admission_required"
  | "admission_expired"
  | "email_required"
  | "idempotency_key_reused"
  | "payment_provider_not_configured";

/** A domain refusal, returned (not thrown) across RPC; `data` lands in the problem body. */
export interface CartRefusal {
  ok: false;
  reason: CartRefusalReason;
  detail?: string;
  data?: Record<string, string | number | null>;
}

/** A refusal value; `detail` and `data` only when given. */
export const refuse = (
  reason: CartRefusalReason,
  detail?: string,
  data?: CartRefusal["data"],
): CartRefusal => ({
  ok: false,
  reason,
  ...(detail === undefined ? {} : { detail }),
  ...(data === undefined ? {} : { data }),
});

const STOCK_REFUSALS = {
  insufficient_stock: "sold_out",
  sale_not_started: "sale_not_started",
  sale_ended: "sale_ended",
  limit_exceeded: "purchase_limit_exceeded",
  quantity_too_large: "quantity_limit_exceeded",
  admission_required: "admission_required",
  admission_expired: "admission_expired",
  customer_required: "email_required",
} as const satisfies Record<string, CartRefusalReason>;

/**
 * Maps an inventory refusal onto the cart's problem codes (insufficient stock → `sold_out`).
 * Admission refusals name the waiting room and where to join it.
 */
export function stockRefusal(
  hold: Extract<LineHold, { ok: false }>,
  target: { sku: string; line_id?: string },
): CartRefusal {
  const reason = STOCK_REFUSALS[hold.reason];
  if (hold.waiting_room !== undefined) {
    const detail =
      reason === "admission_expired"
        ? `Your admission to the ${hold.waiting_room} waiting room has expired; join it again to reserve ${target.sku}.`
        : `${target.sku} is sold through the ${hold.waiting_room} waiting room: join it, then send its admission token as Popcart-Admission.`;
    return refuse(reason, detail, {
      ...target,
      waiting_room: hold.waiting_room,
      join_url: joinPath(hold.waiting_room),
    });
  }
  if (reason === "email_required") {
    return refuse(
      reason,
      `${target.sku} is limited per customer: give the cart an email before adding it.`,
      target,
    );
  }
  const detail =
    reason === "sold_out"
      ? `${target.sku} is sold out: ${hold.available} left.`
      : `${target.sku} cannot be reserved right now (${hold.reason}).`;
  return refuse(reason, detail, { ...target, available: hold.available });
}

/** The refusal for a shipping option the cart cannot use, with why and the cart's destination. */
export function shippingRefusal(
  why: "inactive" | "not_offered_to_country" | "too_heavy",
  methodId: string,
  cart: CartRow,
): CartRefusal {
  const country = cart.shipping_address ? (JSON.parse(cart.shipping_address) as Address).country : null;
  return shippingUnavailable(why, methodId, country);
}
