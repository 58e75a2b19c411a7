// Cart page: quantities, remove, promotion codes and totals, all through the Store API.
import {
  ApiProblem,
  api,
  cartAuth,
  countItems,
  escapeHtml,
  formatMoney,
  loadCart,
  showError,
  updateCartCount,
} from "./api.js";
import { lineNotes, totalsHtml } from "./cart-view.js";

const root = document.querySelector("[data-cart]");
const body = root.querySelector("[data-cart-body]");
const linesEl = root.querySelector("[data-lines]");
const totalsEl = root.querySelector("[data-totals]");
const promoForm = root.querySelector("[data-promo]");
const promoError = root.querySelector("[data-promo-error]");
const promoList = root.querySelector("[data-promo-list]");
const pageError = root.querySelector("[data-cart-error]");
const status = root.querySelector("[data-cart-status]");

const base = () => {
  const auth = cartAuth();
  return { path: `/api/carts/${encodeURIComponent(auth.id)}`, token: auth.token };
};

function render(cart) {
  const lines = cart?.lines ?? [];
  updateCartCount(countItems(cart));
  if (!lines.length) {
    status.textContent = "Your cart is empty.";
    body.hidden = true;
    return;
  }
  status.textContent = `${countItems(cart)} item(s) in your cart.`;
  body.hidden = false;
  linesEl.innerHTML = lines
    .map((line) => {
      const title = escapeHtml(line.title ?? line.sku);
      const id = escapeHtml(line.id);
      return `<li class="cart-line" data-line="${id}">
  <div>
    <strong>${title}</strong>
    ${line.variant_title ? `<div>${escapeHtml(line.variant_title)}</div>` : ""}
    <div>${escapeHtml(formatMoney(line.unit_price))} each</div>
    ${lineNotes(line)
      .map((note) => `<p class="notice">${escapeHtml(note)}</p>`)
      .join("")}
    <form class="qty" data-qty>
      <label class="visually-hidden" for="qty-${id}">Quantity of ${title}</label>
      <input id="qty-${id}" name="quantity" type="number" inputmode="numeric" min="0" max="99" value="${line.quantity}">
      <button type="submit" class="secondary">Update</button>
      <button type="button" class="secondary" data-remove aria-label="Remove ${title}">Remove</button>
    </form>
    <p class="error-message" role="alert" data-line-error></p>
  </div>
  <div class="price">${escapeHtml(formatMoney(line.total))}</div>
</li>`;
    })
    .join("");
  totalsEl.innerHTML = totalsHtml(cart);
  promoList.innerHTML = cart.promotions
    .map((p) => {
      const code = escapeHtml(p.code);
      const state = p.applied
        ? `applied: −${escapeHtml(formatMoney(p.discount))}`
        : `not applied${p.reason ? ` — ${escapeHtml(p.reason)}` : ""}`;
      return `<li>Code <strong>${code}</strong> ${state} <button type="button" class="secondary" data-remove-promo="${code}">Remove<span class="visually-hidden"> code ${code}</span></button></li>`;
    })
    .join("");
}

async function mutate(slot, request) {
  showError(slot, null);
  try {
    const updated = await request();
    render(updated ?? (await loadCart()));
  } catch (error) {
    showError(slot, error);
    if (error instanceof ApiProblem && error.status === 404) render(await loadCart().catch(() => null));
  }
}

linesEl.addEventListener("submit", (event) => {
  event.preventDefault();
  const li = event.target.closest("[data-line]");
  const quantity = Number(event.target.quantity.value);
  const { path, token } = base();
  mutate(li.querySelector("[data-line-error]"), () =>
    api(`${path}/lines/${encodeURIComponent(li.dataset.line)}`, {
      method: "PATCH",
      body: { quantity },
      cartToken: token,
    }),
  );
});
linesEl.addEventListener("click", (event) => {
  if (!event.target.matches("[data-remove]")) return;
  const li = event.target.closest("[data-line]");
  const { path, token } = base();
  mutate(li.querySelector("[data-line-error]"), () =>
    api(`${path}/lines/${encodeURIComponent(li.dataset.line)}`, { method: "DELETE", cartToken: token }),
  );
});
promoForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const code = promoForm.code.value.trim();
  if (!code) return showError(promoError, new Error("Enter a promotion code."));
  const { path, token } = base();
  mutate(promoError, async () => {
    const cart = await api(`${path}/promotions`, { method: "POST", body: { code }, cartToken: token });
    promoForm.reset();
    return cart;
  });
});
promoList.addEventListener("click", (event) => {
  const code = event.target.closest("[data-remove-promo]")?.dataset.removePromo;
  if (!code) return;
  const { path, token } = base();
  mutate(promoError, () =>
    api(`${path}/promotions/${encodeURIComponent(code)}`, { method: "DELETE", cartToken: token }),
  );
});

loadCart()
  .then(render)
  .catch((error) => showError(pageError, error));
