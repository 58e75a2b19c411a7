#!/usr/bin/env node
// Browser end-to-end suite (`npm run test:e2e`): Debian's Chromium driven by playwright-core
// against the production bundle on Miniflare (scripts/lib/server.mjs), on a fresh migrated
// and seeded state in a temporary directory. Screenshots and page weights go to test-results/.
// The harness (server, browser, admin set-up) is harness.mjs, page helpers browser.mjs; the
// scenarios run in the order imported, and the checks over every page visited run last.
import assert from "node:assert/strict";
import { test } from "node:test";
import { JS_BUDGET_BYTES, pageErrors, pageWeights } from "./harness.mjs";
import "./storefront.mjs";
import "./checkout.mjs";
import "./flash-sale.mjs";
import "./console.mjs";

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
