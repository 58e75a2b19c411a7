import type { Address } from "../cart/schemas";
import type { Currency } from "../lib/money";
import type { OrderDraft } from "../orders/service";
import type { PaymentOutcome } from "../payments/provider";
import type { TaxCalculation, TaxedAmount } from "../regions/tax-provider";

/** The cart as priced and validated at checkout: what the shopper pays for and the order records. */
export interface CheckoutSnapshot {
  cart_id: string;
  email: string;
  currency: Currency;
  tax_inclusive: boolean;
  shipping_address: Address;
  shipping_method: { id: string; name: string; amount: number };
  /*
   * Absent in snapshots taken before regions were data (a checkout in flight across the
   * deploy): such an order records no region and no tax lines, only its totals.
   */
  region_code?: string;
  tax_provider?: TaxCalculation["provider"];
  tax_reference?: string | null;
  shipping_tax?: TaxedAmount;
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
    tax_rate?: TaxedAmount | null;
    total: number;
  }[];
  promotions: { code: string; promotion_id: string; discount: number }[];
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  total: number;
}

/** The taxed parts of a snapshot (lines, then shipping), as far as it recorded them. */
export function snapshotTaxParts(snapshot: CheckoutSnapshot): TaxedAmount[] {
  return [
    ...snapshot.lines.flatMap((line) => (line.tax_rate ? [line.tax_rate] : [])),
    ...(snapshot.shipping_tax ? [snapshot.shipping_tax] : []),
  ];
}

/** The tax lines an order keeps: each taxed line by position, shipping with position null. */
function orderTaxLines(snapshot: CheckoutSnapshot): NonNullable<OrderDraft["tax_lines"]> {
  const provider = snapshot.tax_provider ?? "tables";
  const reference = snapshot.tax_reference ?? null;
  const row = (position: number | null, taxed: TaxedAmount) => ({
    position,
    country: taxed.country,
    subdivision: taxed.subdivision,
    tax_class: taxed.taxClass,
    rate_bp: taxed.rateBp,
    taxable_amount: taxed.taxable,
    amount: taxed.amount,
    name: taxed.name,
    provider,
    provider_reference: reference,
  });
  return [
    ...snapshot.lines.flatMap((line, position) => (line.tax_rate ? [row(position, line.tax_rate)] : [])),
    ...(snapshot.shipping_tax && snapshot.shipping > 0 ? [row(null, snapshot.shipping_tax)] : []),
  ];
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
    region_code: snapshot.region_code ?? null,
    tax_lines: orderTaxLines(snapshot),
  };
}
