// Brings a freshly seeded runtime to a shoppable demo through the admin API: stock for every
// seeded SKU (never-stocked SKUs only, so re-runs keep a merchant's changes), the flash-sale
// SKU's sale policy and waiting room, and a search index rebuilt from D1.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FLASH_SALE, seedStockPlan } from "../../db/seed.ts";
import { ROOT } from "./wrangler.mjs";

// Small enough that `npm run dev` shows progress several times during the longest step.
const CHUNK = 200;

/** ADMIN_TOKEN from `.dev.vars`, else from the committed example. */
export async function localAdminToken() {
  for (const file of [".dev.vars", ".dev.vars.example"]) {
    try {
      const text = await readFile(join(ROOT, file), "utf8");
      const match = /^ADMIN_TOKEN\s*=\s*"?([^"\n]*)"?/m.exec(text);
      if (match?.[1]) return match[1];
    } catch {}
  }
  throw new Error("ADMIN_TOKEN not found in .dev.vars or .dev.vars.example");
}

/** Waits until `${url}/health` answers, up to `timeoutMs`. */
export async function waitForHealth(baseUrl, timeoutMs = 60_000) {
  const url = String(baseUrl).replace(/\/+$/, "");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.status < 500) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not become healthy in ${timeoutMs} ms`);
}

async function admin(url, token, method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/**
 * @param {{
 *   url: string,
 *   adminToken?: string,
 *   products?: number,
 *   log?: (line: string) => void,
 *   progress?: (done: number, total: number) => void,
 * }} options `progress` is called after each chunk of the stock step, the long one.
 */
export async function bootstrapDemo({
  url: baseUrl,
  adminToken,
  products,
  log = console.log,
  progress = () => {},
}) {
  // Miniflare's `ready` URL ends in "/"; every path below starts with one.
  const url = String(baseUrl).replace(/\/+$/, "");
  const token = adminToken ?? (await localAdminToken());
  const plan = [...seedStockPlan(products ? { products } : {})];
  let initialised = 0;
  for (let i = 0; i < plan.length; i += CHUNK) {
    const items = plan.slice(i, i + CHUNK).map(([sku, onHand]) => ({ sku, on_hand: onHand }));
    const result = await admin(url, token, "POST", "/admin/api/inventory/initial-stock", { items });
    initialised += result.initialised;
    progress(Math.min(i + CHUNK, plan.length), plan.length);
  }
  log(`Stock: ${initialised} SKUs stocked, ${plan.length - initialised} already had stock.`);

  // The drop's waiting room lets shoppers in 60 a minute. It needs WAITING_ROOM_SECRET, which a
  // .dev.vars created before waiting rooms existed lacks: then the drop runs without a room.
  let room = null;
  try {
    await admin(url, token, "PUT", `/admin/api/waiting-rooms/${FLASH_SALE.sku}`, { admit_per_minute: 60 });
    room = FLASH_SALE.sku;
  } catch (error) {
    log(
      `Waiting room skipped (copy WAITING_ROOM_SECRET from .dev.vars.example to .dev.vars): ${error.message}`,
    );
  }

  // The flash sale: holds at add-to-cart for 10 minutes, two per customer, live now.
  await admin(url, token, "PUT", `/admin/api/inventory/${FLASH_SALE.sku}/sale`, {
    reserve_on_add_to_cart: true,
    reservation_ttl_seconds: 600,
    per_customer_limit: 2,
    max_per_reservation: 2,
    waiting_room: room,
  });
  log(
    `Flash sale: ${FLASH_SALE.sku} (/p/${FLASH_SALE.slug}) reserves at add-to-cart, 2 per customer` +
      (room ? `, through waiting room ${room} (60 admissions a minute).` : "."),
  );

  const { data: regions } = await admin(url, token, "GET", "/admin/api/regions");
  log(
    `Regions: ${regions
      .map(
        (r) =>
          `${r.code} (${r.currency}, ${plural(r.countries.length, "country", "countries")}, ${plural(r.tax_rates.length, "tax rate", "tax rates")})`,
      )
      .join(", ")}; edit them at /admin/api/regions.`,
  );

  let cursor;
  let rounds = 0;
  do {
    const result = await admin(
      url,
      token,
      "POST",
      `/admin/api/search/reindex${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    cursor = result.done ? undefined : result.next_cursor;
    rounds++;
  } while (cursor && rounds < 200);
  log("Search index rebuilt.");
}

/** `1 country`, `11 countries`. */
function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}
