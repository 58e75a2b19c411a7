// Rendering pieces shared by the cart and checkout pages, following the Store API's Cart
// schema (lines with unit_price/total/price_changed/reservation, promotions, totals).
import { escapeHtml, formatMoney } from "./api.js";

const negative = (money) => ({ ...money, amount: -money.amount });

/** Basis points as a percentage without floats: 1900 → "19 %", 725 → "7.25 %". */
export function percent(bp) {
  const fraction = String(bp % 100)
    .padStart(2, "0")
    .replace(/0+$/, "");
  return `${Math.trunc(bp / 100)}${fraction ? `.${fraction}` : ""} %`;
}

/**
 * Rows of the totals table: subtotal, discounts, shipping, tax, total. The tax row names the
 * rate when one applies ("VAT 19 %") and says when prices include it.
 */
export function totalsRows(cart) {
  const t = cart.totals;
  const rows = [["Subtotal", "subtotal", t.subtotal]];
  if (t.discount.amount) rows.push(["Discounts", "discounts", negative(t.discount)]);
  rows.push(["Shipping", "shipping", cart.shipping_method ? t.shipping : null]);
  const lines = t.tax_lines ?? [];
  const label = lines.length === 1 ? `${escapeHtml(lines[0].name)} ${percent(lines[0].rate_bp)}` : "Tax";
  rows.push([t.tax_inclusive ? `${label} (included)` : label, "tax", t.tax]);
  rows.push(["Total", "total", t.total]);
  return rows;
}

export function totalsHtml(cart) {
  return totalsRows(cart)
    .map(
      ([label, key, money]) =>
        `<tr${key === "total" ? ' class="grand"' : ""}><th scope="row">${label}</th><td data-total="${key}">${
          money ? escapeHtml(formatMoney(money)) : "Calculated at checkout"
        }</td></tr>`,
    )
    .join("");
}

/** Plain-words notes a line needs: a price change since it was added, or that it can no longer be bought. */
export function lineNotes(line) {
  const notes = [];
  if (line.price_changed) {
    notes.push(
      `The price changed from ${formatMoney(line.price_changed.previous)} to ${formatMoney(line.price_changed.current)}.`,
    );
  }
  if (!line.available) notes.push("This item is no longer available; remove it to check out.");
  return notes;
}
