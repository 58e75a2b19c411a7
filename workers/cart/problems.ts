import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError } from "../lib/problem";
import type { CartRefusal, CartRefusalReason } from "./refusals";

const REFUSALS: Record<CartRefusalReason, { status: ContentfulStatusCode; title: string }> = {
  cart_not_found: { status: 404, title: "Cart not found" },
  cart_locked: { status: 409, title: "Cart is locked" },
  unknown_sku: { status: 422, title: "Unknown SKU" },
  sku_unavailable: { status: 409, title: "SKU unavailable" },
  sold_out: { status: 409, title: "Sold out" },
  quantity_limit_exceeded: { status: 422, title: "Quantity limit exceeded" },
  too_many_lines: { status: 422, title: "Too many lines" },
  line_total_too_large: { status: 422, title: "Line total too large" },
  line_not_found: { status: 404, title: "Line not found" },
  address_outside_region: { status: 422, title: "Address outside the cart's region" },
  unknown_shipping_method: { status: 422, title: "Unknown shipping method" },
  shipping_method_unavailable: { status: 422, title: "Shipping method unavailable for this cart" },
  tax_provider_unavailable: { status: 503, title: "Tax provider unavailable" },
  tax_calculation_failed: { status: 422, title: "Tax could not be calculated" },
  promotion_invalid: { status: 422, title: "Promotion code not usable" },
  too_many_promotions: { status: 422, title: "Too many promotion codes" },
  promotion_not_on_cart: { status: 404, title: "Promotion not applied" },
  sale_not_started: { status: 409, title: "Sale not started" },
  sale_ended: { status: 409, title: "Sale ended" },
  purchase_limit_exceeded: { status: 409, title: "Purchase limit exceeded" },
  checkout_not_found: { status: 404, title: "Checkout not found" },
  checkout_in_progress: { status: 409, title: "Checkout in progress" },
  checkout_incomplete: { status: 422, title: "Cart not ready for checkout" },
  cart_empty: { status: 422, title: "Cart is empty" },
  cart_total_too_large: { status: 422, title: "Cart total cannot be charged" },
  promotion_unavailable: { status: 409, title: "Promotion no longer available" },
  payment_provider_unavailable: { status: 503, title: "Payment provider unavailable" },
  database_unavailable: { status: 503, title: "Database unavailable" },
  confirmation_not_supported: { status: 409, title: "Confirmation not supported" },
  card_invalid: { status: 422, title: "Invalid card number" },
  rate_limited: { status: 429, title: "Too many requests" },
  admission_required: { status: 403, title: "Waiting-room admission required" },
  admission_expired: { status: 403, title: "Waiting-room admission expired" },
  payment_provider_not_configured: { status: 503, title: "Payments not configured" },
  idempotency_key_reused: { status: 422, title: "Idempotency-Key reused" },
  email_required: { status: 409, title: "Email required for a per-customer limited item" },
};

/** Seconds until a retry may succeed: the refusal's own `retry_after`, else 5. */
function retryAfter(refusal: CartRefusal): number {
  const seconds = refusal.data?.retry_after;
  return typeof seconds === "number" && Number.isSafeInteger(seconds) && seconds > 0 ? seconds : 5;
}

/** The problem a cart refusal answers with; the code is the refusal reason. */
export function cartProblem(refusal: CartRefusal): ApiError {
  const { status, title } = REFUSALS[refusal.reason];
  return new ApiError(status, refusal.reason, title, {
    ...(refusal.detail === undefined ? {} : { detail: refusal.detail }),
    ...(refusal.data === undefined ? {} : { extensions: refusal.data }),
    ...(status === 503 || status === 429 ? { headers: { "Retry-After": String(retryAfter(refusal)) } } : {}),
  });
}
