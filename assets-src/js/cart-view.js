// Reading a cart document: field names follow the Store API's cart schema, with the few
// aliases the schema allows, so cart and checkout pages render the same way.
import { escapeHtml, formatMoney } from "./api.js";

const totalsOf = (cart) => cart?.totals ?? cart ?? {};

export const promotionCodes = (cart) =>
  (cart?.promotion_codes ?? cart?.promotions ?? []).map((p) => (typeof p === "string" ? p : p.code));

export const shippingMethods = (cart) => cart?.shipping_methods ?? cart?.available_shipping_methods ?? [];

export const selectedShippingId = (cart) => cart?.shipping_method?.id ?? cart?.shipping_method_id ?? null;

/** Rows of the totals table: subtotal, discounts, shipping, tax, total (tax-inclusive regions say so). */
export function totalsRows(cart) {
  const t = totalsOf(cart);
  const rows = [["Subtotal", t.subtotal]];
  if (t.discount_total?.amount)
    rows.push(["Discounts", { ...t.discount_total, amount: -t.discount_total.amount }]);
  rows.push(["Shipping", t.shipping_total ?? null]);
  rows.push([(t.tax_inclusive ?? cart?.tax_inclusive) ? "Tax (included)" : "Tax", t.tax_total ?? null]);
  rows.push(["Total", t.total]);
  return rows;
}

export function totalsHtml(cart) {
  return totalsRows(cart)
    .map(
      ([label, money], i, all) =>
        `<tr${i === all.length - 1 ? ' class="grand"' : ""}><th scope="row">${label}</th><td data-total="${label.toLowerCase().split(" ")[0]}">${
          money ? escapeHtml(formatMoney(money)) : label === "Shipping" ? "Calculated at checkout" : "—"
        }</td></tr>`,
    )
    .join("");
}

export const lineTitle = (line) => line.title ?? line.product_title ?? line.sku;
export const lineVariant = (line) => line.variant_title ?? "";
export const lineUnit = (line) => line.unit_price ?? line.price;
export const lineTotal = (line) => line.total ?? line.line_total ?? line.subtotal;
export const linePriceChanged = (line) => Boolean(line.price_changed ?? line.previous_unit_price);
