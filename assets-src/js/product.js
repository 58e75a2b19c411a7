// Product page: variant picker, live availability from the published snapshot, add to cart,
// and the flash-sale pieces (countdown to start, waiting room, "held for you for mm:ss",
// expiry, sold out).
import {
  addToCart,
  api,
  countItems,
  formatMoney,
  loadCart,
  mmss,
  showError,
  updateCartCount,
} from "./api.js";
import { describePlace, forgetAdmission, joinLine } from "./waiting-room.js";

const root = document.querySelector("[data-product]");
const data = JSON.parse(document.getElementById("product-data")?.textContent ?? "null");

const $ = (selector) => root.querySelector(selector);
const priceEl = $("[data-price]");
const compareEl = $("[data-compare-at]");
const skuInput = $("input[name=sku]");
const skuLabel = $("[data-sku]");
const availabilityEl = $("[data-availability]");
const addButton = $("[data-add] button[type=submit]");
const addError = $("[data-add-error]");
const addNotice = $("[data-add-notice]");
const salePanel = $("[data-sale]");
const countdownEl = $("[data-countdown]");
const holdEl = $("[data-hold]");
const queueEl = $("[data-queue]");

let availability = {};
let availabilityFailed = false;
let holdTimer;
/** Waiting-room state per room: { status, position, wait, expires_at }. */
const lines = {};

const selectedOptions = () => {
  const chosen = {};
  for (const input of root.querySelectorAll("[data-options] input:checked"))
    chosen[input.dataset.option] = input.value;
  return chosen;
};
const currentVariant = () => {
  const chosen = selectedOptions();
  return (
    data.variants.find((v) => Object.entries(chosen).every(([k, value]) => v.options[k] === value)) ?? null
  );
};
const saleFor = (sku) => data.sales?.[sku] ?? null;

function saleState(sale, now = Date.now()) {
  if (!sale) return "none";
  if (sale.starts_at && now < Date.parse(sale.starts_at)) return "upcoming";
  if (sale.ends_at && now >= Date.parse(sale.ends_at)) return "ended";
  return "live";
}

function render() {
  const variant = currentVariant();
  if (!variant) {
    priceEl.textContent = "";
    availabilityEl.textContent = "This combination isn't available.";
    availabilityEl.dataset.status = "sold_out";
    addButton.disabled = true;
    return;
  }
  skuInput.value = variant.sku;
  if (skuLabel) skuLabel.textContent = variant.sku;
  priceEl.textContent = variant.price ? formatMoney(variant.price) : "Not sold in this currency";
  compareEl.textContent =
    variant.compare_at && variant.price && variant.compare_at.amount > variant.price.amount
      ? formatMoney(variant.compare_at)
      : "";
  const url = new URL(location.href);
  url.searchParams.set("variant", variant.id);
  history.replaceState(null, "", url);

  const sale = saleFor(variant.sku);
  const state = saleState(sale);
  const stock = availability[variant.sku];
  let blocked = !variant.price;
  if (salePanel) salePanel.hidden = !sale;
  if (sale && countdownEl) {
    if (state === "upcoming") {
      countdownEl.textContent = `Sale starts in ${countdown(Date.parse(sale.starts_at) - Date.now())}`;
      blocked = true;
    } else if (state === "ended") {
      countdownEl.textContent = "This sale has ended.";
      blocked = true;
    } else {
      countdownEl.textContent = sale.ends_at
        ? `Sale live — ends in ${countdown(Date.parse(sale.ends_at) - Date.now())}`
        : "Sale live now";
    }
  }
  if (!stock) {
    availabilityEl.textContent = availabilityFailed
      ? "We can't check stock right now; you can still try adding it to your cart."
      : "Checking availability…";
    delete availabilityEl.dataset.status;
  } else {
    availabilityEl.dataset.status = stock.status;
    if (stock.status === "sold_out") {
      availabilityEl.textContent = "Sold out";
      blocked = true;
    } else if (stock.status === "low" && stock.available != null) {
      availabilityEl.textContent = `Only ${stock.available} left`;
    } else {
      availabilityEl.textContent = "In stock";
    }
  }
  // Shoppers may line up before the sale starts; there is no line for what cannot be bought.
  const queueable = sale?.waiting_room && variant.price && state !== "ended" && stock?.status !== "sold_out";
  const waiting = queueable ? queue(sale.waiting_room) : false;
  if (queueEl && !queueable) queueEl.hidden = true;
  addButton.disabled = blocked || waiting;
  addButton.textContent =
    stock?.status === "sold_out"
      ? "Sold out"
      : state === "upcoming"
        ? "Not on sale yet"
        : waiting
          ? "Waiting in line…"
          : "Add to cart";
}

/** Shows the shopper's place in the sale's waiting room; true until they are admitted. */
function queue(room) {
  const line = lines[room];
  if (line?.status === "admitted" && Date.parse(line.expires_at) <= Date.now()) delete lines[room];
  if (!lines[room]) {
    lines[room] = { status: "joining" };
    joinLine(room, (next) => {
      lines[room] = next;
      render();
    });
  }
  const current = lines[room];
  // A page cached before the sale got its room has no queue slot; the add notice stands in.
  const slot = queueEl ?? addNotice;
  slot.hidden = false;
  slot.className = `queue notice${current.status === "admitted" ? " success" : ""}`;
  slot.textContent =
    current.status === "admitted"
      ? "You're in! Add it to your cart now."
      : current.status === "waiting"
        ? describePlace(current.position, current.wait)
        : current.status === "error"
          ? "We couldn't reach the waiting line; retrying…"
          : "Joining the line…";
  return current.status !== "admitted";
}

function countdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const rest = mmss((total % 3600) * 1000);
  return days ? `${days}d ${hours}h ${rest}` : hours ? `${hours}:${rest}` : rest;
}

async function refreshAvailability() {
  const skus = data.variants.map((v) => v.sku);
  try {
    const body = await api(`/api/availability?skus=${skus.map(encodeURIComponent).join(",")}`);
    availability = body.items;
    availabilityFailed = false;
  } catch {
    // Keep the last snapshot we had; only say so when we never had one.
    availabilityFailed = true;
  }
  render();
}

function showHold(cart) {
  clearInterval(holdTimer);
  if (!holdEl) return;
  const line = (cart?.lines ?? []).find((l) => l.reservation && data.variants.some((v) => v.sku === l.sku));
  if (!line) {
    holdEl.hidden = true;
    return;
  }
  const expires = Date.parse(line.reservation.expires_at);
  const tick = () => {
    const left = expires - Date.now();
    holdEl.hidden = false;
    if (left <= 0) {
      clearInterval(holdTimer);
      holdEl.className = "notice error";
      holdEl.textContent =
        "Your hold has expired and the item went back on sale. Add it again if any are left.";
      refreshAvailability();
      return;
    }
    holdEl.className = "notice success";
    holdEl.innerHTML = `Held for you for <span class="hold-timer">${mmss(left)}</span>. <a href="/checkout">Check out now</a>`;
  };
  tick();
  holdTimer = setInterval(tick, 1000);
}

root.querySelector("[data-options]")?.addEventListener("change", render);

$("[data-add]").addEventListener("submit", async (event) => {
  event.preventDefault();
  const variant = currentVariant();
  if (!variant) return;
  const quantity = Number($("input[name=quantity]").value || 1);
  addButton.disabled = true;
  showError(addError, null);
  addNotice.textContent = "";
  try {
    const result = await addToCart(variant.sku, quantity);
    updateCartCount(countItems(result));
    addNotice.innerHTML = `Added to your cart. <a href="/cart">View cart</a>`;
    showHold(result);
  } catch (error) {
    showError(addError, error);
    // The admission lapsed or was never there: queue (again) for the sale named in the problem.
    const room = error.body?.waiting_room;
    if (room && (error.code === "admission_required" || error.code === "admission_expired")) {
      forgetAdmission(room);
      delete lines[room];
      data.sales[variant.sku] = { ...saleFor(variant.sku), waiting_room: room };
    }
    refreshAvailability();
  } finally {
    render();
  }
});

render();
refreshAvailability();
const saleSkus = Object.keys(data.sales ?? {});
// Flash-sale stock moves by the second; ordinary products only need the first read.
if (saleSkus.length) {
  setInterval(refreshAvailability, 3000);
  setInterval(render, 1000);
}
loadCart()
  .then(showHold)
  .catch(() => {});
