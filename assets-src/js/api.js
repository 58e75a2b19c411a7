// The storefront's only way to the server: the public Store API, as a merchant's own
// front end would call it. Problems (RFC 9457) become ApiProblem with plain-words text.
// Shapes are the typed client's (client/schema.d.ts, generated from the API contract); editors
// and `tsc --checkJs` read these JSDoc types, the browser ignores them.

/** @typedef {import("../../client/index").Schemas} Schemas */
/** @typedef {Schemas["Cart"]} Cart */
/** @typedef {Schemas["Money"]} Money */
/** @typedef {Schemas["Problem"]} Problem */

const EXPONENT = { USD: 2, EUR: 2, GBP: 2, JPY: 0 };
const CART_KEY = "popcart.cart";
const ADMISSIONS_KEY = "popcart.admissions";

/** Shopper-facing wording per stable problem `code`; the API's own detail is the fallback. */
const PLAIN_WORDS = {
  sold_out: "Sorry, this item is sold out.",
  insufficient_stock: "Sorry, there isn't enough stock left for that quantity.",
  sku_unavailable: "Sorry, this item can't be bought right now.",
  unknown_sku: "Sorry, this item can't be bought right now.",
  sale_not_started: "The sale hasn't started yet. Please come back when the countdown ends.",
  sale_ended: "This sale has ended.",
  purchase_limit_exceeded: "You've reached the purchase limit for this item.",
  limit_exceeded: "You've reached the purchase limit for this item.",
  quantity_limit_exceeded: "That quantity is more than we allow in one order.",
  quantity_too_large: "That quantity is more than we allow in one order.",
  too_many_lines: "Your cart is full. Remove something to add more.",
  cart_not_found: "Your cart has expired. Please add the items again.",
  cart_locked: "Your cart is being checked out. Finish or wait for that checkout first.",
  line_not_found: "That item is no longer in your cart.",
  promotion_invalid: "That promotion code isn't valid for this cart.",
  promotion_unavailable: "That promotion code is no longer available.",
  too_many_promotions: "You can't combine any more promotion codes.",
  promotion_not_on_cart: "That promotion code isn't on your cart.",
  address_outside_region:
    "We can't ship to that country with this cart's currency. Switch region or change the address.",
  unknown_shipping_method: "Please choose one of the shipping options shown.",
  checkout_incomplete: "Please add your email, address and a shipping method first.",
  checkout_in_progress: "A checkout for this cart is already in progress.",
  checkout_not_found: "Your checkout expired. Please try again.",
  cart_empty: "Your cart is empty.",
  card_invalid: "That card number isn't valid.",
  payment_provider_unavailable: "Payments are unavailable right now. Please try again in a moment.",
  payment_provider_not_configured: "This shop cannot take payments right now.",
  email_required: "This item is limited per customer: enter your email before adding it.",
  idempotency_key_reused: "Your cart changed while checking out. Please try again.",
  database_unavailable: "The shop is busy right now. Please try again in a moment.",
  validation_failed: "Some details need fixing.",
  rate_limited: "Too many requests. Please wait a moment and try again.",
  order_not_found: "We couldn't find that order. Check the link from your confirmation.",
  admission_required: "This sale lets shoppers in from a waiting line. Open the product page to join it.",
  admission_expired: "Your turn to shop this sale has ended. Open the product page to join the line again.",
};

/** An API refusal with text a shopper can read. `fields` maps failing input paths to messages. */
export class ApiProblem extends Error {
  /** @param {number} status @param {Partial<Problem> | null} body */
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
  // Cart writes may reserve flash-sale stock, which needs the shopper's waiting-room admissions.
  const passes = path.startsWith("/api/carts") ? Object.values(admissions()) : [];
  if (passes.length) init.headers["popcart-admission"] = passes.map((a) => a.token).join(",");
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

/**
 * Formats integer minor units exactly (no float arithmetic on the amount).
 * @param {Money} money
 */
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

/**
 * Loads the stored cart from the API; forgets it when the API no longer knows it.
 * @returns {Promise<Cart | null>}
 */
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

/**
 * Puts `quantity` of `sku` in the shopper's cart. Without a usable cart this is one request:
 * the cart is created with the line (its stock held before the cart exists, all or nothing).
 */
export async function addToCart(sku, quantity) {
  const cart = await loadCart();
  const currency = preferredCurrency();
  if (cart && (cart.currency === currency || (cart.lines ?? []).length > 0)) {
    return api(`/api/carts/${encodeURIComponent(cart.id)}/lines`, {
      method: "POST",
      body: { sku, quantity },
      cartToken: cartAuth()?.token,
    });
  }
  const created = await api("/api/carts", { method: "POST", body: { currency, lines: [{ sku, quantity }] } });
  localStorage.setItem(CART_KEY, JSON.stringify({ id: created.id, token: created.token }));
  return created;
}

/** Unexpired waiting-room admissions by room: `{ token, expires_at }`. */
export function admissions() {
  let stored = {};
  try {
    stored = JSON.parse(localStorage.getItem(ADMISSIONS_KEY) ?? "{}") ?? {};
  } catch {}
  return Object.fromEntries(Object.entries(stored).filter(([, a]) => Date.parse(a?.expires_at) > Date.now()));
}

/** Keeps (or, with no token, forgets) the shopper's admission to a waiting room. */
export function storeAdmission(room, token, expiresAt) {
  const all = admissions();
  if (token) all[room] = { token, expires_at: expiresAt };
  else delete all[room];
  localStorage.setItem(ADMISSIONS_KEY, JSON.stringify(all));
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
