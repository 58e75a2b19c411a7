import type { CartRow, LineRow } from "../../durable-objects/cart-storage";
import type { CartPricing } from "../cart/cart-pricing";
import { priceCart } from "../cart/cart-view";
import { type CartRefusal, refuse, shippingRefusal } from "../cart/refusals";
import type { Address } from "../cart/schemas";
import { describeError, log } from "../lib/logging";
import { type Currency, MAX_AMOUNT } from "../lib/money";
import type { OrderDraft } from "../orders/service";
import type { PaymentOutcome } from "../payments/provider";
import { type TaxCalculation, type TaxedAmount, TaxProviderError } from "../regions/tax-provider";

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

/**
 * The cart frozen for checkout: every line purchasable, its region still shipping to the
 * address, priced with the checkout re-checks (region snapshot against D1, the tax provider);
 * or the refusal saying what is missing or changed.
 */
export async function snapshotCart(
  env: Env,
  cart: CartRow,
  lines: LineRow[],
  codes: string[],
): Promise<{ ok: true; value: CheckoutSnapshot } | CartRefusal> {
  if (lines.length === 0) return refuse("cart_empty", "The cart has no lines.");
  const missing = [
    ...(cart.email ? [] : ["email"]),
    ...(cart.shipping_address ? [] : ["shipping_address"]),
    ...(cart.shipping_method ? [] : ["shipping_method"]),
  ];
  if (missing.length > 0) {
    return refuse("checkout_incomplete", `The cart needs ${missing.join(", ")} before checkout.`, {
      missing: missing.join(","),
    });
  }
  let pricing: CartPricing;
  try {
    pricing = await priceCart(env, cart, lines, codes, { checkout: true });
  } catch (error) {
    if (!(error instanceof TaxProviderError)) throw error;
    log("warn", "checkout_tax_failed", { cart_id: cart.id, ...describeError(error) });
    return error.retryable
      ? refuse("tax_provider_unavailable", "Tax could not be calculated right now; retry shortly.", {
          retry_after: error.retryAfterSeconds,
        })
      : refuse("tax_calculation_failed", `Tax could not be calculated for this address: ${error.message}`);
  }
  const { priced, selected, region } = pricing;
  if (!selected || !region) {
    return refuse("unknown_shipping_method", "The chosen shipping method is no longer offered.");
  }
  if (!selected.ok) return shippingRefusal(selected.reason, selected.option.id, cart);
  const address = JSON.parse(cart.shipping_address ?? "null") as Address;
  // The merchant may have moved the country out of the region since the address was set.
  if (!region.countries.includes(address.country)) {
    return refuse("address_outside_region", `Region ${region.code} no longer ships to ${address.country}.`, {
      country: address.country,
    });
  }
  const method = { id: selected.option.id, name: selected.option.name, amount: selected.amount };
  const unavailable = priced.lines.find((line) => !line.purchasable || !line.item);
  if (unavailable) {
    return refuse("sku_unavailable", `${unavailable.sku} can no longer be bought; remove it to check out.`, {
      sku: unavailable.sku,
      line_id: unavailable.id,
    });
  }
  if (priced.total > MAX_AMOUNT || priced.total < 1) {
    return refuse("cart_total_too_large", "The cart total is outside what can be charged.", {
      total: priced.total,
    });
  }
  return {
    ok: true,
    value: {
      cart_id: cart.id,
      email: cart.email ?? "",
      currency: cart.currency as Currency,
      tax_inclusive: priced.taxInclusive,
      shipping_address: JSON.parse(cart.shipping_address ?? "null") as Address,
      shipping_method: method,
      region_code: region.code,
      tax_provider: priced.taxProvider,
      tax_reference: priced.taxReference,
      shipping_tax: priced.shippingTax,
      lines: priced.lines.map((line) => ({
        line_id: line.id,
        sku: line.sku,
        variant_id: line.item?.variantId ?? "",
        product_id: line.item?.productId ?? "",
        title: line.item?.title ?? line.sku,
        variant_title: line.item?.variantTitle ?? "",
        quantity: line.quantity,
        unit_price: line.unitPrice,
        discount: line.discount,
        tax: line.tax,
        tax_rate: line.taxRate,
        total: line.total,
      })),
      promotions: priced.promotions.flatMap((promotion) =>
        promotion.applied && promotion.promotionId
          ? [{ code: promotion.code, promotion_id: promotion.promotionId, discount: promotion.discount }]
          : [],
      ),
      subtotal: priced.subtotal,
      discount: priced.discount,
      shipping: priced.shipping,
      tax: priced.tax,
      total: priced.total,
    },
  };
}
