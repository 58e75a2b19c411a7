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
  canceled: "Cancelled",
  refunded: "Refunded",
  partially_refunded: "Partially refunded",
};

async function load() {
  const order = await api(
    `/api/orders/${encodeURIComponent(root.dataset.orderId)}?token=${encodeURIComponent(params.get("token") ?? "")}`,
  );
  const body = order?.order ?? order;
  const lines = body.lines ?? [];
  root.querySelector("[data-order-number]").textContent = body.number ?? body.id;
  root.querySelector("[data-order-status]").textContent = STATUS_WORDS[body.status] ?? body.status;
  root.querySelector("[data-order-email]").textContent = body.email ?? "";
  root.querySelector("[data-order-lines]").innerHTML = lines
    .map(
      (l) =>
        `<li>${l.quantity} × ${escapeHtml(l.title)}${l.variant_title ? ` (${escapeHtml(l.variant_title)})` : ""} — ${escapeHtml(formatMoney(l.total))}</li>`,
    )
    .join("");
  const rows = [
    ["Subtotal", body.subtotal],
    [
      "Discounts",
      body.discount_total?.amount ? { ...body.discount_total, amount: -body.discount_total.amount } : null,
    ],
    ["Shipping", body.shipping_total],
    ["Tax", body.tax_total],
    ["Total", body.total],
  ].filter(([, m]) => m);
  root.querySelector("[data-order-totals]").innerHTML = rows
    .map(
      ([label, money]) =>
        `<tr${label === "Total" ? ' class="grand"' : ""}><th scope="row">${label}</th><td>${escapeHtml(formatMoney(money))}</td></tr>`,
    )
    .join("");
  const history = body.status_history ?? body.history ?? [];
  root.querySelector("[data-order-history]").innerHTML = history
    .map(
      (h) =>
        `<li>${escapeHtml(STATUS_WORDS[h.status] ?? h.status)} — <time datetime="${escapeHtml(h.at ?? h.created_at)}">${escapeHtml(new Date(h.at ?? h.created_at).toLocaleString())}</time></li>`,
    )
    .join("");
  root.querySelector("[data-order-body]").hidden = false;
}

load().catch((error) => showError(root.querySelector("[data-order-error]"), error));
