// Browser helpers for the end-to-end scenarios: pages that record their JS weight, layout shift
// and client errors, screenshots, a phone-sized context, and a signed-in console page.
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { adminToken, base, browser, pageErrors, pageWeights, RESULTS } from "./harness.mjs";

export async function shot(page, name) {
  const path = join(RESULTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A page that records its JS transfer and cumulative layout shift. */
export async function openPage(context, label) {
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

/** A 390 px wide touch phone. */
export const mobileContext = () =>
  browser.newContext({
    baseURL: base.href,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });

/** Asserts each path fits a 390 px screen without horizontal scrolling. */
export async function assertFits(page, paths) {
  for (const path of paths) {
    await page.goto(path);
    // Compare with the device width, not innerWidth: a mobile browser widens its layout
    // viewport to fit overflowing content, which would hide the very overflow we look for.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${path} fits a 390px screen (content is ${width}px wide)`);
  }
}

/** A signed-in console page (Chromium accepts the Secure session cookie on http://127.0.0.1). */
export async function consolePage(context, label) {
  const page = await openPage(context, label);
  await page.goto("/admin");
  await page.waitForURL(/\/admin\/sign-in/);
  await page.getByLabel("Admin token").fill(adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/admin$/);
  return page;
}
