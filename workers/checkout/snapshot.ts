import type { Address } from "../cart/schemas";
import type { Currency } from "../lib/money";
import type { OrderDraft } from "../orders/service";
import type { PaymentOutcome } from "../payments/provider";

/** The cart as priced and validated at checkout: what the shopper pays for and the order records. */
export interface CheckoutSnapshot {
  cart_id: string;
  email: string;
  currency: Currency;
  tax_inclusive: boolean;
  shipping_address: Address;
  shipping_method: { id: string; name: string; amount: number };
  lines: {
    line_id: string;
    sku: string;
    variant_id: string;
    product_id: string;
    title: string;
    variant_title: string;
    quantity: number;
    unit_price: number;
    discount: number;
    tax: number;
    total: number;
  }[];
  promotions: { code: string; promotion_id: string; discount: number }[];
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  total: number;
}

/** One stock hold a checkout relies on; `line` holds belong to the cart line (flash-sale SKUs). */
export interface CheckoutReservation {
  sku: string;
  line_id: string;
  quantity: number;
  reservation_id: string;
  source: "line" | "checkout";
}

/**
 * The order a paid checkout becomes. `reservations` maps line ids to the committed
 * reservation behind each line, so cancelling the order can put the units back on sale.
 */
export function orderDraftFrom(
  checkoutId: string,
  snapshot: CheckoutSnapshot,
  outcome: Pick<PaymentOutcome, "provider" | "payment_id" | "amount">,
  extra: { flags: string[]; lookupToken: string; reservations: ReadonlyMap<string, string> },
): OrderDraft {
  return {
    checkout_id: checkoutId,
    cart_id: snapshot.cart_id,
    email: snapshot.email,
    currency: snapshot.currency,
    lines: snapshot.lines.map((line) => ({
      sku: line.sku,
      variant_id: line.variant_id,
      product_id: line.product_id,
      title: line.title,
      variant_title: line.variant_title,
      quantity: line.quantity,
      unit_price: line.unit_price,
      discount: line.discount,
      tax: line.tax,
      total: line.total,
      reservation_id: extra.reservations.get(line.line_id) ?? null,
    })),
    subtotal: snapshot.subtotal,
    discount_total: snapshot.discount,
    shipping_total: snapshot.shipping,
    tax_total: snapshot.tax,
    total: snapshot.total,
    tax_inclusive: snapshot.tax_inclusive,
    shipping_address: snapshot.shipping_address,
    shipping_method: snapshot.shipping_method,
    promotion_codes: snapshot.promotions.map((promotion) => promotion.code),
    payment: {
      provider: outcome.provider,
      payment_id: outcome.payment_id,
      amount: outcome.amount.amount,
      status: "succeeded",
    },
    flags: extra.flags,
    lookup_token: extra.lookupToken,
  };
}
