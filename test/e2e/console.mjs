// Admin console scenarios: sign-in, products, stock and sales, live holds, refunds, dead
// letters, regions and tax, and the console on a phone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertFits, consolePage, mobileContext, openPage, shot } from "./browser.mjs";
import { admin, adminToken, BUY_SKUS, base, browser, server } from "./harness.mjs";

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
