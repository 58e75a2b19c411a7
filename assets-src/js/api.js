// The storefront's only way to the server: the public Store API, as a merchant's own
// front end would call it. Problems (RFC 9457) become ApiProblem with plain-words text.

const EXPONENT = { USD: 2, EUR: 2, GBP: 2, JPY: 0 };
const CART_KEY = "popcart.cart";

/** Shopper-facing wording per stable problem `code`; the API's own detail is the fallback. */
const PLAIN_WORDS = {
  insufficient_stock: "Sorry, there isn't enough stock left for that quantity.",
  sold_out: "Sorry, this item is sold out.",
  sale_not_started: "The sale hasn't started yet. Please come back when the countdown ends.",
  sale_ended: "This sale has ended.",
  limit_exceeded: "You've reached the purchase limit for this item.",
  quantity_too_large: "That quantity is more than we allow in one order.",
  cart_not_found: "Your cart has expired. We've started a new one for you.",
  cart_expired: "Your cart has expired. We've started a new one for you.",
  promotion_not_found: "That promotion code isn't valid.",
  promotion_invalid: "That promotion code isn't valid.",
  promotion_expired: "That promotion code has expired.",
  promotion_not_applicable: "That promotion code doesn't apply to this cart.",
  promotion_exhausted: "That promotion code has been fully redeemed.",
  promotion_min_subtotal: "Your cart doesn't reach the minimum spend for this code yet.",
  payment_declined: "Your card was declined. Please try another card.",
  card_declined: "Your card was declined. Please try another card.",
  payment_failed: "The payment didn't go through. Please try another card.",
  insufficient_funds: "Your card has insufficient funds. Please try another card.",
  checkout_expired: "Your checkout expired before payment. Please try again.",
  cart_empty: "Your cart is empty.",
  validation_failed: "Some details need fixing.",
  rate_limited: "Too many requests. Please wait a moment and try again.",
  order_not_found: "We couldn't find that order. Check the link from your confirmation.",
  not_found: "We couldn't find that.",
};

/** An API refusal with text a shopper can read. `fields` maps failing input paths to messages. */
export class ApiProblem extends Error {
  constructor(status, body) {
    const code = body?.code ?? "network_error";
    super(PLAIN_WORDS[code] ?? body?.detail ?? body?.title ?? "Something went wrong. Please try again.");
    this.status = status;
    this.code = code;
    this.body = body;
    this.fields = Object.fromEntries((body?.errors ?? []).map((e) => [e.path, e.message]));
  }
}

/** Calls the Store API; resolves with parsed JSON (or null for 204), rejects with ApiProblem. */
export async function api(path, { method = "GET", body, cartToken, headers = {} } = {}) {
  const init = { method, headers: { accept: "application/json", ...headers } };
  if (cartToken) init.headers["x-cart-token"] = cartToken;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiProblem(0, {
      code: "network_error",
      detail: "We couldn't reach the shop. Check your connection.",
    });
  }
  if (res.status === 204) return null;
  const type = res.headers.get("content-type") ?? "";
  const data = type.includes("json") ? await res.json() : null;
  if (!res.ok) throw new ApiProblem(res.status, data);
  return data;
}

/** Formats integer minor units exactly (no float arithmetic on the amount). */
export function formatMoney(money, locale = document.documentElement.lang || "en") {
  if (!money) return "";
  const exponent = EXPONENT[money.currency] ?? 2;
  const sign = money.amount < 0 ? "-" : "";
  const abs = String(Math.abs(money.amount)).padStart(exponent + 1, "0");
  const decimal = exponent ? `${abs.slice(0, -exponent)}.${abs.slice(-exponent)}` : abs;
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency: money.currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  }).format(`${sign}${decimal}`);
}

/** The shopper's chosen currency (set server-side by the region switcher). */
export function preferredCurrency() {
  return document.documentElement.dataset.currency || "USD";
}

export function storedCart() {
  try {
    return JSON.parse(localStorage.getItem(CART_KEY) ?? "null");
  } catch {
    return null;
  }
}

export function forgetCart() {
  localStorage.removeItem(CART_KEY);
  updateCartCount(0);
}

/** Loads the stored cart from the API; forgets it when the API no longer knows it. */
export async function loadCart() {
  const stored = storedCart();
  if (!stored) return null;
  try {
    const cart = await api(`/api/carts/${encodeURIComponent(stored.id)}`, { cartToken: stored.token });
    updateCartCount(countItems(cart));
    return cart;
  } catch (error) {
    if (error instanceof ApiProblem && (error.status === 404 || error.status === 410)) {
      forgetCart();
      return null;
    }
    throw error;
  }
}

/** The current cart, creating one in the preferred currency when there is none (or it is empty and in another currency). */
export async function ensureCart() {
  const cart = await loadCart();
  const currency = preferredCurrency();
  if (cart && (cart.currency === currency || (cart.lines ?? []).length > 0)) return cart;
  const created = await api("/api/carts", { method: "POST", body: { currency } });
  localStorage.setItem(CART_KEY, JSON.stringify({ id: created.id, token: created.token }));
  return created;
}

export function cartAuth() {
  const stored = storedCart();
  return stored ? { id: stored.id, token: stored.token } : null;
}

export function countItems(cart) {
  return (cart?.lines ?? []).reduce((sum, line) => sum + line.quantity, 0);
}

export function updateCartCount(count) {
  for (const el of document.querySelectorAll("[data-cart-count]")) el.textContent = String(count);
}

/** Shows `message` in the error slot next to where the action happened (an aria-live region). */
export function showError(slot, error) {
  if (!slot) return;
  slot.textContent = error
    ? error instanceof ApiProblem
      ? error.message
      : String(error.message ?? error)
    : "";
}

/** `mm:ss` for a number of milliseconds (never negative). */
export function mmss(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  return `${String(minutes).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
}

export function escapeHtml(value) {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch],
  );
}
