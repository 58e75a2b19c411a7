// Order status page: reads the order through the guest lookup link (`?token=`).
import { api, escapeHtml, formatMoney, showError } from "./api.js";

const root = document.querySelector("[data-order]");
const params = new URL(location.href).searchParams;
const STATUS_WORDS = {
  placed: "Order placed",
  paid: "Paid — we're preparing your order",
  fulfilling: "Being packed",
  shipped: "Shipped",
  delivered: "Delivered",
  cancelled: "Cancelled",
  refunded: "Refunded",
};
const PAYMENT_WORDS = {
  paid: "Paid",
  partially_refunded: "Partly refunded",
  refunded: "Refunded",
  pending: "Pending",
};

const set = (selector, text) => {
  root.querySelector(selector).textContent = text;
};

async function load() {
  const order = await api(
    `/api/orders/${encodeURIComponent(root.dataset.orderId)}?token=${encodeURIComponent(params.get("token") ?? "")}`,
  );
  set("[data-order-number]", order.number);
  set("[data-order-status]", STATUS_WORDS[order.status] ?? order.status);
  set("[data-order-payment]", PAYMENT_WORDS[order.payment_status] ?? order.payment_status);
  set("[data-order-email]", order.email);
  set("[data-order-date]", new Date(order.created_at).toLocaleString());
  set(
    "[data-order-shipping]",
    `${order.shipping_method.name} (${formatMoney(order.shipping_method.amount)})`,
  );
  root.querySelector("[data-order-lines]").innerHTML = order.lines
    .map(
      (l) =>
        `<li>${l.quantity} × ${escapeHtml(l.title)}${l.variant_title ? ` (${escapeHtml(l.variant_title)})` : ""} — ${escapeHtml(formatMoney(l.total))}</li>`,
    )
    .join("");
  const rows = [
    ["Subtotal", order.subtotal],
    [
      "Discounts",
      order.discount_total.amount ? { ...order.discount_total, amount: -order.discount_total.amount } : null,
    ],
    ["Shipping", order.shipping_total],
    [order.tax_inclusive ? "Tax (included)" : "Tax", order.tax_total],
    ["Total", order.total],
    ["Refunded", order.refunded_total.amount ? order.refunded_total : null],
  ].filter(([, money]) => money);
  root.querySelector("[data-order-totals]").innerHTML = rows
    .map(
      ([label, money]) =>
        `<tr${label === "Total" ? ' class="grand"' : ""}><th scope="row">${label}</th><td>${escapeHtml(formatMoney(money))}</td></tr>`,
    )
    .join("");
  root.querySelector("[data-order-body]").hidden = false;
}

load().catch((error) => showError(root.querySelector("[data-order-error]"), error));
