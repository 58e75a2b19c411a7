// Flash-sale scenarios: the live countdown and stock, then the waiting room, a timed hold, and
// the next shopper finding it sold out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FLASH_SALE } from "../../db/seed.ts";
import { openPage, shot } from "./browser.mjs";
import { apiServes, base, browser, flashRoom, pending } from "./harness.mjs";

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
