// The end-to-end harness: a fresh migrated and seeded state in a temporary directory, the
// production bundle on Miniflare (scripts/lib/server.mjs), Debian's Chromium
// (/usr/bin/chromium) driven by playwright-core, and the admin set-up the scenarios rely on.
// Everything the scenarios share is exported here; `before`/`after` run around the whole suite.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";
import { FLASH_SALE, seedProducts } from "../../db/seed.ts";
import { migrateLocal, seedLocal } from "../../scripts/lib/local-d1.mjs";
import { startServer } from "../../scripts/lib/server.mjs";
import { ROOT } from "../../scripts/lib/wrangler.mjs";

export const RESULTS = join(ROOT, "test-results");
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
export const PROMO_CODE = `E2E${Date.now().toString(36).toUpperCase()}`;
export const JS_BUDGET_BYTES = 50 * 1024;
/** The seeded product the checkout flows buy: the first active, non-flash-sale one, with the variants it sells in USD. */
export const BUY = [...seedProducts({ products: PRODUCTS })].find(
  (item) => item.product.slug !== FLASH_SALE.slug && item.product.status === "active",
);
export const BUY_SKUS = BUY.variants.map((v) => v.sku);

export let server;
export let browser;
let state;
export let base;
export let adminToken;
/** JS bytes (raw and gzip) per page, filled as pages are visited. */
export const pageWeights = {};
/** Whether the flash sale sends shoppers through its waiting room (the admin route exists). */
export let flashRoom = false;
/** Admin set-up that could not be applied (routes not merged yet), reported at the end. */
export const pending = [];
/** Uncaught errors thrown by client modules and CSP violations; any is a failure. */
export const pageErrors = [];

async function readAdminToken() {
  const file = await readFile(join(ROOT, ".dev.vars"), "utf8").catch(() =>
    readFile(join(ROOT, ".dev.vars.example"), "utf8"),
  );
  return /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(file)?.[1];
}

/** Calls the admin API; a missing route is recorded as pending set-up instead of failing here. */
export async function admin(method, path, body) {
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
export async function apiServes(method, path) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { "content-type": "application/json" },
    body: method === "GET" ? undefined : "{}",
  });
  const text = await res.text();
  return !(res.status === 404 && text.includes("route_not_found"));
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
