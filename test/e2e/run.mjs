#!/usr/bin/env node
// Browser end-to-end suite (`npm run test:e2e`): Debian's Chromium driven by playwright-core
// against the production bundle on Miniflare (scripts/lib/server.mjs), on a fresh migrated
// and seeded state in a temporary directory. Screenshots and page weights go to test-results/.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { FLASH_SALE, seedProducts } from "../../db/seed.ts";
import { migrateLocal, seedLocal } from "../../scripts/lib/local-d1.mjs";
import { startServer } from "../../scripts/lib/server.mjs";
import { ROOT } from "../../scripts/lib/wrangler.mjs";

const RESULTS = join(ROOT, "test-results");
const PRODUCTS = 48;
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const PROMO_CODE = `E2E${Date.now().toString(36).toUpperCase()}`;
const JS_BUDGET_BYTES = 50 * 1024;
/** The seeded product the checkout flows buy: the first active, non-flash-sale one, with the variants it sells in USD. */
const BUY = [...seedProducts({ products: PRODUCTS })].find(
  (item) => item.product.slug !== FLASH_SALE.slug && item.product.status === "active",
);
const BUY_SKUS = BUY.variants.map((v) => v.sku);

let server;
let browser;
let state;
let base;
let adminToken;
/** JS bytes (raw and gzip) per page, filled as pages are visited. */
const pageWeights = {};
/** Whether the flash sale sends shoppers through its waiting room (the admin route exists). */
let flashRoom = false;
/** Admin set-up that could not be applied (routes not merged yet), reported at the end. */
const pending = [];
/** Uncaught errors thrown by client modules and CSP violations; any is a failure. */
const pageErrors = [];

async function readAdminToken() {
  const file = await readFile(join(ROOT, ".dev.vars"), "utf8").catch(() =>
    readFile(join(ROOT, ".dev.vars.example"), "utf8"),
  );
  return /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(file)?.[1];
}

/** Calls the admin API; a missing route is recorded as pending set-up instead of failing here. */
async function admin(method, path, body) {
  const res = await fetch(new URL(`/admin/api${path}`, base), {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status === 404 && text.includes("route_not_found")) {
    pending.push(`${method} /admin/api${path} (route not available)`);
    return null;
  }
  if (!res.ok) throw new Error(`${method} /admin/api${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** True when the public API serves `method path` (i.e. the owning domain has landed). */
async function apiServes(method, path) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { "content-type": "application/json" },
    body: method === "GET" ? undefined : "{}",
  });
  const text = await res.text();
  return !(res.status === 404 && text.includes("route_not_found"));
}

async function shot(page, name) {
  const path = join(RESULTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A page that records its JS transfer and cumulative layout shift. */
async function openPage(context, label) {
  const page = await context.newPage();
  const scripts = new Map();
  page.on("pageerror", (error) => {
    pageErrors.push(`${label}: ${error.message}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
      pageErrors.push(`${label}: ${message.text()}`);
    }
  });
  page.on("response", async (res) => {
    if (res.request().resourceType() !== "script" || !res.url().startsWith(base.origin)) return;
    const body = await res.body().catch(() => null);
    if (body) scripts.set(res.url(), body);
  });
  await page.addInitScript(() => {
    window.__cls = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__cls += entry.value;
    }).observe({ type: "layout-shift", buffered: true });
  });
  page.recordWeight = async (name = label) => {
    await page.waitForLoadState("networkidle");
    const bodies = [...scripts.values()];
    pageWeights[name] = {
      files: bodies.length,
      raw_bytes: bodies.reduce((n, b) => n + b.length, 0),
      gzip_bytes: bodies.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0),
      cls: await page.evaluate(() => window.__cls),
    };
    scripts.clear();
    return pageWeights[name];
  };
  return page;
}

before(async () => {
  await mkdir(RESULTS, { recursive: true });
  await mkdir(join(ROOT, ".wrangler"), { recursive: true });
  state = await mkdtemp(join(ROOT, ".wrangler", "e2e-"));
  await migrateLocal({ persistTo: state });
  await seedLocal({ persistTo: state, products: PRODUCTS });
  // The console needs a session-signing secret; a local .dev.vars from before the console may lack it.
  server = await startServer({
    port: 0,
    persist: state,
    quiet: true,
    vars: { ADMIN_SESSION_SECRET: "e2e-admin-session-secret-0123456789abcdef" },
  });
  base = server.url;
  adminToken = await readAdminToken();
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });

  // Stock for the product the checkout flows buy (the admin API is rate limited, so not for
  // every SKU), the flash sale live with a single unit, and one promotion code.
  for (const sku of BUY_SKUS) {
    if ((await admin("PUT", `/inventory/${encodeURIComponent(sku)}`, { on_hand: 50 })) === null) break;
  }
  if ((await admin("PUT", `/inventory/${FLASH_SALE.sku}`, { on_hand: 1 })) !== null) {
    // Shoppers reach the drop through its waiting room, admitted one per second.
    flashRoom = (await admin("PUT", `/waiting-rooms/${FLASH_SALE.sku}`, { admit_per_minute: 60 })) !== null;
    await admin("PUT", `/inventory/${FLASH_SALE.sku}/sale`, {
      sale_starts_at: new Date(Date.now() - 60_000).toISOString(),
      sale_ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      reserve_on_add_to_cart: true,
      reservation_ttl_seconds: 300,
      ...(flashRoom ? { waiting_room: FLASH_SALE.sku } : {}),
    });
  }
  await admin("POST", "/promotions", { code: PROMO_CODE, type: "percentage", percentage_bp: 1000 });
  // The seed writes D1 directly (no catalog.changed events), so build the search index once.
  await admin("POST", "/search/reindex");
});

after(async () => {
  await writeFile(join(RESULTS, "page-weights.json"), `${JSON.stringify(pageWeights, null, 2)}\n`);
  console.log("page weights (JS per page):", JSON.stringify(pageWeights, null, 2));
  if (pending.length)
    console.log(`set-up pending on unmerged domains:\n  ${[...new Set(pending)].join("\n  ")}`);
  await browser?.close();
  await server?.close();
  if (state) await rm(state, { recursive: true, force: true });
});

test("browse a category, filter it, open a product and pick a variant", async () => {
  const context = await browser.newContext({ baseURL: base.href, viewport: { width: 1280, height: 900 } });
  const page = await openPage(context, "home");
  await page.goto("/");
  assert.match(await page.title(), /Home · Popcart/);
  assert.ok((await page.locator(".product-grid .card").count()) > 0, "home lists featured products");
  await page.recordWeight("home");
  await shot(page, "01-home");

  await page.locator("nav[aria-label=Categories] a").first().click();
  await page.waitForURL(/\/c\//);
  const before = await page.locator(".product-grid .card").count();
  assert.ok(before > 0, "category lists products");
  await page.recordWeight("category");
  const brand = await page.locator("#filter-brand option").nth(1).getAttribute("value");
  await page.selectOption("#filter-brand", brand);
  await page.selectOption("#filter-sort", "price_asc");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/brand=/);
  const cards = page.locator(".product-grid .card");
  assert.ok((await cards.count()) > 0 && (await cards.count()) <= before, "brand filter narrows the list");
  for (const text of await cards.allInnerTexts()) assert.ok(text.includes(brand), `every card is ${brand}`);
  await shot(page, "02-category-filtered");

  await cards.first().locator("a").click();
  await page.waitForURL(/\/p\//);
  await page.recordWeight("product");
  const radios = page.locator("[data-options] input[type=radio]");
  if ((await radios.count()) > 1) {
    const last = radios.last();
    await page.locator(`label[for="${await last.getAttribute("id")}"]`).click();
    assert.ok(await last.isChecked(), "variant option selected by clicking its label");
  }
  await page.waitForFunction(
    () => !/Checking/.test(document.querySelector("[data-availability]").textContent),
  );
  assert.match(await page.locator("[data-price]").textContent(), /\$\d/);
  assert.match(page.url(), /variant=var_/);
  await shot(page, "03-product");
  const cls = await page.evaluate(() => window.__cls);
  assert.ok(cls < 0.1, `cumulative layout shift ${cls} stays under 0.1`);
  await context.close();
});

test("search box suggests products as you type and the region switcher persists", async () => {
  const context = await browser.newContext({ baseURL: base.href });
  const page = await openPage(context, "search");
  await page.goto("/");
  if (await apiServes("GET", "/api/search/suggest?q=ho")) {
    await page.locator("#site-search").fill("hood");
    await page.locator("#search-suggestions [role=option]").first().waitFor({ timeout: 5000 });
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.locator("#site-search").getAttribute("aria-expanded"), "true");
    await shot(page, "04-autocomplete");
  } else {
    pending.push("GET /api/search/suggest (search domain not merged): autocomplete not exercised");
  }
  await Promise.all([
    page.waitForResponse((res) => res.url().endsWith("/preferences/currency")),
    page.selectOption("#region", "EUR"),
  ]);
  await page.waitForLoadState("load");
  await page.goto("/");
  assert.match(await page.locator(".card .price").first().textContent(), /€/);
  assert.equal(await page.locator("#region").inputValue(), "EUR");
  await context.close();
});

/** Adds the stocked product to a fresh cart; returns the page on /cart, or null when carts are not served yet. */
async function cartWithProduct(context, label) {
  if (!(await apiServes("POST", "/api/carts"))) return null;
  const page = await openPage(context, label);
  await page.goto(`/p/${BUY.product.slug}`);
  await page.waitForURL(/\/p\//);
  await page.waitForFunction(
    () => !/Checking/.test(document.querySelector("[data-availability]").textContent),
  );
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.locator("[data-add-notice] a[href='/cart']").waitFor({ timeout: 10_000 });
  await page.goto("/cart");
  await page.locator(".cart-line").first().waitFor();
  return page;
}

async function fillCheckout(page, email) {
  await page.goto("/checkout");
  await page.locator("#f-email").fill(email);
  await page.locator("#f-name").fill("Ada Lovelace");
  await page.locator("#f-line1").fill("1 Analytical Way");
  await page.locator("#f-city").fill("Springfield");
  await page.locator("#f-region").fill("IL");
  await page.locator("#f-postal_code").fill("62701");
  await page.selectOption("#f-country", "US");
  await page.getByRole("button", { name: "Continue to shipping" }).click();
  const method = page.locator("[data-shipping-methods] input[type=radio]").first();
  await method.waitFor({ timeout: 10_000 });
  await method.check();
  await page.waitForLoadState("networkidle");
}

test("add to cart, apply a promotion, pay with 4242 and follow the order-status link", async (t) => {
  const context = await browser.newContext({ baseURL: base.href });
  const page = await cartWithProduct(context, "cart");
  if (!page) return t.skip("cart API (/api/carts) not merged yet");
  await page.recordWeight("cart");
  await page.locator("#promo-code").fill("NOT-A-REAL-CODE");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.locator("[data-promo-error]:not(:empty)").waitFor();
  assert.doesNotMatch(
    await page.locator("[data-promo-error]").textContent(),
    /[{}]/,
    "plain words, not JSON",
  );
  await page.locator("#promo-code").fill(PROMO_CODE);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.locator("[data-total=discounts]").waitFor({ timeout: 10_000 });
  await shot(page, "05-cart-with-promotion");

  await fillCheckout(page, "ada@example.com");
  await page.recordWeight("checkout");
  assert.ok(await page.getByText("TEST MODE").isVisible(), "test-card form is marked TEST MODE");
  await shot(page, "06-checkout");
  await page.locator("#f-card").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Pay now" }).click();
  await page.waitForURL(/\/orders\/ord_.*placed=1/, { timeout: 30_000 });
  await page.locator("[data-order-number]:not(:empty)").waitFor();
  assert.match(await page.locator("h1").textContent(), /order is confirmed/);
  await page.recordWeight("order");
  await shot(page, "07-order-confirmation");

  const statusUrl = page.url().replace("&placed=1", "");
  await page.goto(statusUrl);
  await page.locator("[data-order-status]:not(:empty)").waitFor();
  assert.match(await page.locator("[data-order-number]").textContent(), /^PC-\d+/);
  await shot(page, "08-order-status");
  await context.close();
});

test("a declined card is explained next to the payment form and the cart survives", async (t) => {
  const context = await browser.newContext({ baseURL: base.href });
  const page = await cartWithProduct(context, "cart-declined");
  if (!page) return t.skip("cart API (/api/carts) not merged yet");
  await fillCheckout(page, "declined@example.com");
  await page.locator("#f-card").fill("4000000000000002");
  await page.getByRole("button", { name: "Pay now" }).click();
  await page.locator("[data-pay-error]:not(:empty)").waitFor({ timeout: 30_000 });
  assert.match(await page.locator("[data-pay-error]").textContent(), /declined/i);
  assert.match(page.url(), /\/checkout/);
  await shot(page, "09-card-declined");
  await context.close();
});

test("a shopper who fills every field and presses Pay now directly pays for what the page shows", async (t) => {
  const context = await browser.newContext({ baseURL: base.href });
  const page = await cartWithProduct(context, "cart-pay-directly");
  if (!page) return t.skip("cart API (/api/carts) not merged yet");
  await page.goto("/checkout");
  await page.locator("#f-email").fill("direct@example.com");
  await page.locator("#f-name").fill("Grace Hopper");
  await page.locator("#f-line1").fill("2 Compiler Court");
  await page.locator("#f-city").fill("Arlington");
  await page.locator("#f-region").fill("VA");
  await page.locator("#f-postal_code").fill("22201");
  await page.selectOption("#f-country", "US");
  // No "Continue to shipping": the method is picked from the list the page already shows.
  await page.locator("[data-shipping-methods] input[type=radio]").first().check();
  await page.locator("#f-card").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Pay now" }).click();
  await page.waitForURL(/\/orders\/ord_.*placed=1/, { timeout: 30_000 });
  await page.locator("[data-order-number]:not(:empty)").waitFor();
  // The order carries the email typed on the page, saved by "Pay now" itself.
  assert.equal((await page.locator("[data-order-email]").textContent()).trim(), "direct@example.com");
  await context.close();
});

test("Pay now with an incomplete address points at the missing field instead of paying", async (t) => {
  const context = await browser.newContext({ baseURL: base.href });
  const page = await cartWithProduct(context, "cart-pay-incomplete");
  if (!page) return t.skip("cart API (/api/carts) not merged yet");
  await page.goto("/checkout");
  await page.locator("#f-email").fill("incomplete@example.com");
  await page.locator("#f-card").fill("4242 4242 4242 4242");
  await page.getByRole("button", { name: "Pay now" }).click();
  await page.locator("[data-details-error]:not(:empty)").waitFor({ timeout: 10_000 });
  assert.ok(await page.locator("[aria-invalid=true]").count(), "the missing address fields are marked");
  assert.match(page.url(), /\/checkout/);
  await context.close();
});

test("/docs renders the interactive API reference from this origin under the page CSP", async () => {
  const context = await browser.newContext({ baseURL: base.href });
  const page = await openPage(context, "api-docs");
  await page.goto("/docs");
  await page.locator(".swagger-ui .opblock").first().waitFor({ timeout: 20_000 });
  assert.ok((await page.locator(".swagger-ui .opblock").count()) > 40, "every operation is listed");
  await page.locator(".opblock-summary-path", { hasText: "/health" }).first().click();
  // "Try it out" is on from the start (tryItOutEnabled): Execute calls this same Worker.
  await page.getByRole("button", { name: "Execute" }).first().click();
  await page.locator(".live-responses-table .response-col_status", { hasText: "200" }).first().waitFor();
  await shot(page, "14-api-docs");
  await context.close();
});

test("a live flash sale shows its countdown and the remaining stock from the snapshot", async (t) => {
  if (!(await apiServes("GET", "/api/availability?skus=X"))) return t.skip("availability API not merged yet");
  const context = await browser.newContext({ baseURL: base.href });
  const page = await openPage(context, "flash-sale");
  await page.goto(`/p/${FLASH_SALE.slug}`);
  await page.locator("[data-sale]").waitFor();
  assert.match(await page.locator("[data-countdown]").textContent(), /Sale live — ends in \d/);
  await page.locator("[data-availability][data-status=low]").waitFor({ timeout: 20_000 });
  assert.equal(await page.locator("[data-availability]").textContent(), "Only 1 left");
  await page.recordWeight("product-flash-sale");
  await shot(page, "10-flash-sale-live");
  await context.close();
});

test("a flash-sale shopper waits their turn in line, gets a timed hold; the next one sees it sold out", async (t) => {
  if (!(await apiServes("POST", "/api/carts"))) return t.skip("cart API (/api/carts) not merged yet");
  const queued = flashRoom;
  // Others got in line first: at one admission a second the shopper waits a few seconds.
  for (let i = 0; queued && i < 4; i++) {
    const res = await fetch(new URL(`/api/waiting-rooms/${FLASH_SALE.sku}/tickets`, base), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 201);
  }
  const first = await browser.newContext({ baseURL: base.href });
  const buyer = await openPage(first, "flash-buyer");
  await buyer.goto(`/p/${FLASH_SALE.slug}`);
  await buyer.locator("[data-sale]").waitFor();
  if (queued) {
    const place = buyer.locator("[data-queue]");
    await place.filter({ hasText: /in line/ }).waitFor({ timeout: 10_000 });
    assert.match(await place.textContent(), /You're \d+(st|nd|rd|th) in line/);
    assert.ok(await buyer.getByRole("button", { name: "Waiting in line…" }).isDisabled());
    await shot(buyer, "11a-flash-sale-waiting-room");
    await place.filter({ hasText: "You're in!" }).waitFor({ timeout: 20_000 });
  } else {
    pending.push("waiting rooms (/api/waiting-rooms) not merged: flash-sale queue not exercised");
  }
  await buyer.getByRole("button", { name: "Add to cart" }).click();
  await buyer.locator("[data-hold] .hold-timer").waitFor({ timeout: 10_000 });
  assert.match(await buyer.locator("[data-hold]").textContent(), /Held for you for \d\d:\d\d/);
  await shot(buyer, "11-flash-sale-held");

  const second = await browser.newContext({ baseURL: base.href });
  const late = await openPage(second, "flash-late");
  await late.goto(`/p/${FLASH_SALE.slug}`);
  // The availability snapshot trails reservations by a few seconds; the page polls it.
  await late.locator("[data-availability][data-status=sold_out]").waitFor({ timeout: 20_000 });
  assert.ok(await late.getByRole("button", { name: "Sold out" }).isDisabled());
  await shot(late, "12-flash-sale-sold-out");
  await first.close();
  await second.close();
});

/** A 390 px wide touch phone. */
const mobileContext = () =>
  browser.newContext({
    baseURL: base.href,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });

/** Asserts each path fits a 390 px screen without horizontal scrolling. */
async function assertFits(page, paths) {
  for (const path of paths) {
    await page.goto(path);
    // Compare with the device width, not innerWidth: a mobile browser widens its layout
    // viewport to fit overflowing content, which would hide the very overflow we look for.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${path} fits a 390px screen (content is ${width}px wide)`);
  }
}

test("mobile viewport: no horizontal scrolling, reachable controls, visible focus", async () => {
  const context = await mobileContext();
  const page = await openPage(context, "mobile");
  await assertFits(page, ["/", `/p/${FLASH_SALE.slug}`]);
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    return { text: el.textContent, outline: getComputedStyle(el).outlineStyle };
  });
  assert.equal(focused.text, "Skip to content");
  assert.notEqual(focused.outline, "none");
  await shot(page, "13-mobile-product");
  await context.close();
});

/** A signed-in console page (Chromium accepts the Secure session cookie on http://127.0.0.1). */
async function consolePage(context, label) {
  const page = await openPage(context, label);
  await page.goto("/admin");
  await page.waitForURL(/\/admin\/sign-in/);
  await page.getByLabel("Admin token").fill(adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/admin$/);
  return page;
}

const DROP = Date.now().toString(36).toUpperCase();
const DROP_SKU = `CONSOLE-DROP-${DROP}`;

test("console: sign in, create a product, stock it and configure its sale", async () => {
  const context = await browser.newContext({ baseURL: base.href, viewport: { width: 1280, height: 900 } });
  const page = await openPage(context, "console-sign-in");
  await page.goto("/admin");
  await page.waitForURL(/\/admin\/sign-in/);
  await shot(page, "20-console-sign-in");
  await page.getByLabel("Admin token").fill("not-the-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  assert.match(await page.getByRole("alert").textContent(), /not valid/);
  await page.getByLabel("Admin token").fill(adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/admin$/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "__Host-popcart-admin");
  assert.ok(session?.httpOnly && session.secure && session.sameSite === "Strict", "HttpOnly, Secure, Strict");
  assert.equal(await page.locator("h1").textContent(), "Dashboard");
  await shot(page, "21-console-dashboard");

  await page.getByRole("link", { name: "Products" }).click();
  const form = page.getByRole("form", { name: "New product" });
  await form.getByLabel("Title").fill(`Console drop tee ${DROP}`);
  await form.getByLabel("Slug").fill(`console-drop-${DROP.toLowerCase()}`);
  await form.getByLabel("Brand").fill("Popcart");
  await form.getByLabel("Status").selectOption("active");
  await form.getByLabel("First variant SKU").fill(DROP_SKU);
  await form.getByLabel("USD").fill("25.00");
  await form.getByLabel("EUR").fill("23.00");
  await form.getByRole("button", { name: "Create product" }).click();
  await page.getByText("Product created.").waitFor();
  assert.match(await page.locator("table").first().textContent(), /\$25\.00/);
  await shot(page, "22-console-product");

  await page.getByRole("link", { name: DROP_SKU }).click();
  await page.waitForURL(/\/admin\/inventory\//);
  const stock = page.getByRole("form", { name: "Set stock" });
  await stock.getByLabel("On hand (total units)").fill("5");
  await stock.getByLabel("Reason").fill("drop allocation");
  await stock.getByRole("button", { name: "Set stock" }).click();
  await page.getByText("Stock saved.").waitFor();
  assert.equal(await page.locator(".counter-on_hand [data-field=on_hand]").textContent(), "5");
  assert.match(await page.getByRole("table", { name: "Adjustments log" }).textContent(), /drop allocation/);

  const sale = page.getByRole("form", { name: "Configure sale" });
  const iso = (ms) => new Date(ms).toISOString().slice(0, 16);
  await sale.getByLabel("Starts (UTC)").fill(iso(Date.now() - 60_000));
  await sale.getByLabel("Ends (UTC)").fill(iso(Date.now() + 3_600_000));
  await sale.getByLabel("Hold time (seconds)").fill("120");
  await sale.getByLabel("Per-customer limit").fill("2");
  await sale.getByLabel("Hold units when added to a cart").check();
  await sale.getByRole("button", { name: "Save sale" }).click();
  await page.getByText("Sale settings saved.").waitFor();
  const policy = await admin("GET", `/inventory/${DROP_SKU}`);
  assert.equal(policy.policy.per_customer_limit, 2);
  assert.equal(policy.policy.reservation_ttl_seconds, 120);
  assert.equal(policy.policy.reserve_on_add_to_cart, true);
  await shot(page, "23-console-inventory-sale");
  await context.close();
});

test("console: holds appear live, expire by themselves, and can be force-released", async () => {
  const context = await browser.newContext({ baseURL: base.href, viewport: { width: 1280, height: 900 } });
  const page = await consolePage(context, "console-live");
  await page.goto(`/admin/inventory/${DROP_SKU}`);
  await page.locator("[data-live-status]").filter({ hasText: "live" }).waitFor({ timeout: 10_000 });
  const rows = page.locator("[data-live-reservations] tr");
  assert.equal(await rows.count(), 0);

  // A short hold placed elsewhere (an ops hold through the API) shows up without a reload…
  const brief = await admin("POST", `/inventory/${DROP_SKU}/reservations`, {
    holder: "cart_e2e_brief",
    quantity: 1,
    ttl_seconds: 4,
  });
  await page.locator(`[data-reservation="${brief.id}"]`).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator(".counter-reserved [data-field=reserved]").textContent(), "1");
  assert.equal(await page.locator(".counter-available [data-field=available]").textContent(), "4");
  await shot(page, "24-console-hold-live");
  // …and leaves by itself when it expires.
  await page.locator(`[data-reservation="${brief.id}"]`).waitFor({ state: "detached", timeout: 20_000 });
  await page.locator(".counter-available [data-field=available]").filter({ hasText: /^5$/ }).waitFor();

  const kept = await admin("POST", `/inventory/${DROP_SKU}/reservations`, {
    holder: "cart_e2e_kept",
    quantity: 2,
    ttl_seconds: 600,
  });
  const row = page.locator(`[data-reservation="${kept.id}"]`);
  await row.waitFor({ timeout: 10_000 });
  page.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: `Force-release ${kept.id}` }).click();
  await page.getByText("Reservation released.").waitFor();
  assert.equal(await page.locator(`[data-reservation="${kept.id}"]`).count(), 0);
  assert.equal(await page.locator(".counter-reserved [data-field=reserved]").textContent(), "0");
  await context.close();
});

test("console: refund part of an order", async (t) => {
  const context = await browser.newContext({ baseURL: base.href, viewport: { width: 1280, height: 900 } });
  const page = await consolePage(context, "console-orders");
  await page.getByRole("link", { name: "Orders" }).click();
  await page.getByLabel("Email").fill("ada@example.com");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/email=/);
  const first = page.locator("tbody tr th a").first();
  if ((await first.count()) === 0) {
    await context.close();
    return t.skip("no order was placed (checkout not available)");
  }
  await shot(page, "25-console-orders");
  await first.click();
  await page.waitForURL(/\/admin\/orders\/ord_/);
  const refund = page.getByRole("form", { name: "Refund" });
  await refund.getByLabel("Amount (USD)").fill("1.00");
  await refund.getByLabel("Reason").fill("late delivery");
  page.once("dialog", (dialog) => dialog.accept());
  await refund.getByRole("button", { name: "Refund" }).click();
  await page.getByText("Refund issued.").waitFor({ timeout: 20_000 });
  assert.equal(await page.locator("[data-refunded]").textContent(), "$1.00");
  assert.equal(await page.locator("[data-payment-status]").textContent(), "partially_refunded");
  await shot(page, "26-console-order-refunded");
  await context.close();
});

test("console: replay a dead letter", async () => {
  const id = `dl_e2e${DROP.toLowerCase()}`;
  await server.mf
    .getD1Database("DB")
    .then((db) =>
      db
        .prepare(
          "insert into dead_letters (id, event_id, queue, consumer, type, payload, error, attempts, failed_at) values (?, ?, 'ORDER_EVENTS', 'fulfilment', 'order.paid', '{}', 'receiver answered 503 after 5 attempts', 5, ?)",
        )
        .bind(id, `evt_${DROP.toLowerCase()}`, Date.now())
        .run(),
    );
  const context = await browser.newContext({ baseURL: base.href, viewport: { width: 1280, height: 900 } });
  const page = await consolePage(context, "console-events");
  await page.getByRole("link", { name: "Events" }).click();
  const row = page.locator(`[data-dead-letter="${id}"]`);
  assert.match(await row.textContent(), /receiver answered 503/);
  await row.getByRole("checkbox").check();
  await shot(page, "27-console-dead-letters");
  await page.getByRole("button", { name: "Replay selected" }).click();
  await page.getByText("Dead letters sent back to their queues.").waitFor();
  const listed = await admin("GET", "/events/dead-letters?include_replayed=true&limit=100");
  assert.equal(listed.data.find((d) => d.id === id)?.replay_count, 1);
  await context.close();
});

test("console: add a country to a region, set its VAT and a weight-band option with a free-shipping threshold", async () => {
  const context = await browser.newContext({ baseURL: base.href, viewport: { width: 1280, height: 900 } });
  const page = await consolePage(context, "console-regions");
  await page.getByRole("link", { name: "Regions & tax" }).click();
  assert.match(await page.locator('[data-region="EU"]').textContent(), /EUR.*include tax/);
  await page.getByRole("link", { name: "European Union" }).click();
  await page.waitForURL(/\/admin\/regions\/EU$/);

  const country = page.getByRole("form", { name: "Add a country" });
  await country.getByLabel("Country code").fill("GR");
  await country.getByRole("button", { name: "Add country" }).click();
  await page.getByText("Country added to the region.").waitFor();
  assert.match(await page.locator("[data-countries]").textContent(), /Greece \(GR\)/);

  const rate = page.getByRole("form", { name: "Set a tax rate" });
  await rate.getByLabel("Country", { exact: true }).selectOption("GR");
  await rate.getByLabel("Rate (%)").fill("24");
  await rate.getByRole("button", { name: "Set rate" }).click();
  await page.getByText("Tax rate saved.").waitFor();
  assert.match(await page.locator("[data-tax-rates]").textContent(), /Greece.*standard.*24 %/);

  const option = page.getByRole("form", { name: "Add a shipping option" });
  await option.getByLabel("Id", { exact: true }).fill("gr_parcel");
  await option.getByLabel("Name shoppers see").fill("Parcel");
  await option.getByLabel("Priced by").selectOption("weight_bands");
  await option.getByLabel("Weight bands").fill("2000 4.50\n10000 9.50");
  await option.getByLabel("Free over (EUR)").fill("80");
  await option.getByLabel("Only to countries").fill("GR");
  await option.getByLabel("Delivery from (days)").fill("2");
  await option.getByLabel("Delivery to (days)").fill("5");
  await option.getByRole("button", { name: "Add option" }).click();
  await page.getByText("Shipping option added.").waitFor();
  const row = page.locator('[data-shipping-option="gr_parcel"]');
  assert.match(await row.textContent(), /≤ 2,000 g €4\.50 · ≤ 10,000 g €9\.50.*€80\.00.*GR.*2–5 days/);
  await shot(page, "29-console-regions");

  // A shopper's cart to Greece is taxed at the new rate and offered the new option.
  const res = await fetch(new URL("/api/carts", base), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      currency: "EUR",
      lines: [{ sku: BUY_SKUS[0], quantity: 1 }],
      shipping_address: {
        name: "E2E",
        line1: "Ermou 1",
        city: "Athens",
        postal_code: "10563",
        country: "GR",
      },
      shipping_method: "gr_parcel",
    }),
  });
  const cart = await res.json();
  assert.equal(res.status, 201, JSON.stringify(cart));
  assert.equal(cart.lines[0].tax_rate_bp, 2400);
  assert.equal(cart.shipping_method.id, "gr_parcel");
  await context.close();
});

test("console: usable at 390 px and by keyboard", async () => {
  const context = await mobileContext();
  const page = await consolePage(context, "console-mobile");
  await assertFits(page, [
    "/admin",
    `/admin/inventory/${DROP_SKU}`,
    "/admin/orders",
    "/admin/events",
    "/admin/products",
    "/admin/regions",
    "/admin/regions/EU",
  ]);
  await page.goto("/admin/regions/EU");
  await shot(page, "30-console-mobile-regions");
  await page.goto(`/admin/inventory/${DROP_SKU}`);
  await shot(page, "28-console-mobile-inventory");
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => ({
    text: document.activeElement.textContent,
    outline: getComputedStyle(document.activeElement).outlineStyle,
  }));
  assert.equal(focused.text, "Skip to content");
  assert.notEqual(focused.outline, "none");
  // Every form control on the page has a label.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
      .filter((el) => !el.labels?.length && !el.getAttribute("aria-label"))
      .map((el) => el.name),
  );
  assert.deepEqual(unlabelled, []);
  await context.close();
});

test("client modules threw no uncaught errors and broke no CSP rule", () => {
  assert.deepEqual(pageErrors, []);
});

test("product and category pages stay under the 50 KB compressed JS budget", () => {
  for (const name of ["product", "category"]) {
    const weight = pageWeights[name];
    assert.ok(weight, `${name} page was measured`);
    assert.ok(weight.gzip_bytes < JS_BUDGET_BYTES, `${name}: ${weight.gzip_bytes} B gzip JS`);
    assert.ok(weight.cls < 0.1, `${name}: layout shift ${weight.cls}`);
  }
});
