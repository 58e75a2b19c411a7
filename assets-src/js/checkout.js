// Checkout: contact, address, shipping method, then payment through the provider the API
// names: Stripe's Payment Element (card data goes to Stripe only) or, without a Stripe key,
// the built-in test provider's card form (clearly marked TEST MODE).
import {
  ApiProblem,
  api,
  cartAuth,
  escapeHtml,
  forgetCart,
  formatMoney,
  loadCart,
  showError,
} from "./api.js";
import { totalsHtml } from "./cart-view.js";

const root = document.querySelector("[data-checkout]");
const form = root.querySelector("form[data-details]");
const detailsError = root.querySelector("[data-details-error]");
const methodsEl = root.querySelector("[data-shipping-methods]");
const shippingError = root.querySelector("[data-shipping-error]");
const summaryLines = root.querySelector("[data-summary-lines]");
const summaryTotals = root.querySelector("[data-summary-totals]");
const paymentSection = root.querySelector("[data-payment]");
const payForm = root.querySelector("form[data-pay]");
const payError = root.querySelector("[data-pay-error]");
const payStatus = root.querySelector("[data-pay-status]");
const testPanel = root.querySelector("[data-test-mode]");
const stripePanel = root.querySelector("[data-stripe]");
const payButton = payForm.querySelector("button[type=submit]");

const ATTEMPT_KEY = "popcart.checkout-attempt";
const ADDRESS_FIELDS = ["name", "line1", "line2", "city", "region", "postal_code", "country", "phone"];
let cart;
let paymentConfig = { provider: "test", publishable_key: null };

const auth = () => cartAuth();
const cartPath = () => `/api/carts/${encodeURIComponent(auth().id)}`;
const token = () => auth().token;

function fieldErrors(targetForm, error) {
  for (const slot of targetForm.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const input of targetForm.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  if (!(error instanceof ApiProblem)) return;
  for (const [path, message] of Object.entries(error.fields)) {
    const name = path.split(".").pop();
    const slot = targetForm.querySelector(`[data-error-for="${name}"]`);
    const input = targetForm.querySelector(`[name="${name}"]`);
    if (slot) slot.textContent = message;
    input?.setAttribute("aria-invalid", "true");
  }
}

function renderSummary() {
  summaryLines.innerHTML = cart.lines
    .map(
      (line) =>
        `<li>${line.quantity} × ${escapeHtml(line.title ?? line.sku)}${line.variant_title ? ` (${escapeHtml(line.variant_title)})` : ""} — ${escapeHtml(formatMoney(line.total))}</li>`,
    )
    .join("");
  summaryTotals.innerHTML = totalsHtml(cart);
}

function renderMethods() {
  const selected = cart.shipping_method?.id ?? null;
  methodsEl.innerHTML = cart.shipping_methods.length
    ? cart.shipping_methods
        .map(
          (m) =>
            `<div><input type="radio" name="shipping_method" id="ship-${escapeHtml(m.id)}" value="${escapeHtml(m.id)}"${
              m.id === selected ? " checked" : ""
            }><label for="ship-${escapeHtml(m.id)}">${escapeHtml(m.name)} — ${escapeHtml(formatMoney(m.amount))} (${m.min_days}–${m.max_days} days)</label></div>`,
        )
        .join("")
    : "<p>Enter your address to see shipping options.</p>";
}

/** A sensible first guess for the country select, from the cart's currency. */
const COUNTRY_FOR_CURRENCY = { USD: "US", EUR: "DE", GBP: "GB", JPY: "JP" };

function prefill() {
  if (cart?.email && !form.email.value) form.email.value = cart.email;
  if (!cart.shipping_address && COUNTRY_FOR_CURRENCY[cart.currency])
    form.country.value = COUNTRY_FOR_CURRENCY[cart.currency];
  const address = cart?.shipping_address ?? {};
  for (const name of ADDRESS_FIELDS) {
    if (address[name] && form[name] && !form[name].value) form[name].value = address[name];
  }
}

async function refresh() {
  cart = await loadCart();
  if (!cart || !(cart.lines ?? []).length) {
    root.innerHTML = '<p>Your cart is empty. <a href="/">Continue shopping</a></p>';
    return false;
  }
  renderSummary();
  renderMethods();
  prefill();
  return true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError(detailsError, null);
  fieldErrors(form, null);
  const address = {};
  for (const name of ADDRESS_FIELDS) {
    const value = form[name]?.value.trim();
    if (value) address[name] = value;
  }
  try {
    await api(`${cartPath()}/email`, {
      method: "PUT",
      body: { email: form.email.value.trim() },
      cartToken: token(),
    });
    cart = await api(`${cartPath()}/shipping-address`, { method: "PUT", body: address, cartToken: token() });
    renderSummary();
    renderMethods();
    methodsEl.querySelector("input")?.focus();
  } catch (error) {
    fieldErrors(form, error);
    showError(detailsError, error);
  }
});

methodsEl.addEventListener("change", async (event) => {
  if (event.target.name !== "shipping_method") return;
  showError(shippingError, null);
  try {
    cart = await api(`${cartPath()}/shipping-method`, {
      method: "PUT",
      body: { id: event.target.value },
      cartToken: token(),
    });
    renderSummary();
  } catch (error) {
    showError(shippingError, error);
  }
});

/** One Idempotency-Key per attempt, kept across reloads so a retried request cannot pay twice. */
function attemptKey() {
  const saved = JSON.parse(sessionStorage.getItem(ATTEMPT_KEY) ?? "null");
  if (saved?.cart === auth().id) return saved.key;
  const key = crypto.randomUUID();
  sessionStorage.setItem(ATTEMPT_KEY, JSON.stringify({ cart: auth().id, key }));
  return key;
}
const endAttempt = () => sessionStorage.removeItem(ATTEMPT_KEY);

async function startCheckout() {
  return api(`${cartPath()}/checkout`, {
    method: "POST",
    headers: { "idempotency-key": attemptKey() },
    cartToken: token(),
  });
}

const orderLink = ({ order }) =>
  order
    ? `/orders/${encodeURIComponent(order.id)}?token=${encodeURIComponent(order.lookup_token ?? "")}&placed=1`
    : null;

async function waitForOutcome(checkout) {
  for (let i = 0; i < 40; i++) {
    if (checkout.status === "completed" && orderLink(checkout)) return checkout;
    if (["failed", "expired", "requires_action"].includes(checkout.status)) return checkout;
    await new Promise((r) => setTimeout(r, 500));
    checkout = await api(`/api/checkouts/${encodeURIComponent(checkout.id)}`, { cartToken: token() });
  }
  return checkout;
}

function finish(checkout) {
  const link = orderLink(checkout);
  endAttempt();
  forgetCart();
  location.assign(link);
}

const FAILURES = {
  card_declined: "Your card was declined. Please try another card.",
  payment_failed: "Your card was declined. Please try another card.",
  insufficient_funds: "Your card has insufficient funds. Please try another card.",
};

function failureMessage(checkout) {
  if (checkout.status === "expired") return "Your checkout expired before payment. Please try again.";
  const failure = checkout.failure;
  return (
    FAILURES[failure?.code] ??
    `The payment didn't go through${failure?.message ? ` (${failure.message})` : ""}. Please try another card.`
  );
}

async function payWithTestCard() {
  const cardNumber = payForm.card_number.value.replace(/\s+/g, "");
  let checkout = await startCheckout();
  const confirm = () =>
    api(`/api/checkouts/${encodeURIComponent(checkout.id)}/confirm`, {
      method: "POST",
      body: { card_number: cardNumber },
      cartToken: token(),
    });
  checkout = await waitForOutcome(await confirm());
  if (checkout.status === "requires_action") {
    payStatus.textContent = "Your bank asks you to confirm this payment.";
    // The test provider's stand-in for a 3-D Secure challenge: the shopper approves explicitly.
    if (window.confirm("TEST MODE: approve this payment as your bank would?")) {
      checkout = await waitForOutcome(await confirm());
    }
  }
  return checkout;
}

async function payWithStripe() {
  const checkout = await startCheckout();
  const secret = checkout.payment?.client_secret;
  const stripe = window.Stripe(paymentConfig.publishable_key);
  const elements = stripe.elements({ clientSecret: secret });
  const element = elements.create("payment");
  element.mount(stripePanel.querySelector("[data-stripe-mount]"));
  payButton.onclick = null;
  const { error } = await stripe.confirmPayment({
    elements,
    confirmParams: {
      return_url: `${location.origin}/checkout?checkout_id=${encodeURIComponent(checkout.id)}`,
    },
    redirect: "if_required",
  });
  if (error) throw new ApiProblem(402, { code: "payment_failed", detail: error.message });
  return waitForOutcome(checkout);
}

payForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError(payError, null);
  payStatus.textContent = "Processing payment…";
  payButton.disabled = true;
  try {
    const checkout = paymentConfig.publishable_key ? await payWithStripe() : await payWithTestCard();
    if (checkout.status === "completed" && orderLink(checkout)) return finish(checkout);
    endAttempt();
    payStatus.textContent = "";
    showError(payError, new Error(failureMessage(checkout)));
  } catch (error) {
    payStatus.textContent = "";
    // A refused checkout (stock lost, cart changed) needs a fresh attempt, not a replay.
    if (error instanceof ApiProblem && error.status !== 0) endAttempt();
    showError(payError, error);
    refresh().catch(() => {});
  } finally {
    payButton.disabled = false;
  }
});

async function loadStripeJs() {
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.onload = resolve;
    script.onerror = () =>
      reject(new Error("Card payments are unavailable right now. Please try again later."));
    document.head.append(script);
  });
}

async function init() {
  if (!(await refresh())) return;
  try {
    paymentConfig = (await api("/api/config/payments")) ?? paymentConfig;
  } catch {
    // Without the config route the built-in test provider is what the API uses.
  }
  if (paymentConfig.provider === "unavailable") {
    // Never show a test card form on a shop without a payment provider.
    testPanel.remove();
    stripePanel.remove();
    showError(payError, new ApiProblem(503, { code: "payment_provider_not_configured" }));
  } else if (paymentConfig.publishable_key) {
    testPanel.remove();
    stripePanel.hidden = false;
    await loadStripeJs().catch((error) => showError(payError, error));
  } else {
    stripePanel.remove();
    testPanel.hidden = false;
  }
  paymentSection.hidden = false;
  const returning = new URL(location.href).searchParams.get("checkout_id");
  if (returning) {
    const checkout = await waitForOutcome(
      await api(`/api/checkouts/${encodeURIComponent(returning)}`, { cartToken: token() }),
    );
    if (checkout.status === "completed") finish(checkout);
    else showError(payError, new Error(failureMessage(checkout)));
  }
}

init().catch((error) => showError(detailsError, error));
