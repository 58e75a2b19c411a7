#!/usr/bin/env node
// `npm run test:crash [-- --crash-at 2500,4000,paying+300] [--shoppers 200] [--units 60] [--port 8800]`
// A flash-sale storm against the production bundle on Miniflare (scripts/lib/server.mjs) over a
// fresh, seeded state in a temporary directory. At each `--crash-at` point (ms after the storm
// starts, or `paying+ms`: ms after the first shopper confirmed a payment; one run per point, each
// on its own SKU) the runtime process (workerd) is killed with
// SIGKILL, as a lost host would be, and restarted on the same persisted state. Every shopper then
// retries as a real client does (same cart, token and Idempotency-Key), and the harness asserts
// the money and stock invariants once the system has converged on its own (cart alarms, the
// cron sweeper): no oversell, one order per committed unit, no shopper with two orders, no
// successful charge without an order, consistent counters and a clean invariant audit.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FLASH_SALE, seedProducts } from "../../db/seed.ts";
import { localAdminToken } from "../../scripts/lib/bootstrap.mjs";
import { migrateLocal, seedLocal } from "../../scripts/lib/local-d1.mjs";
import { startServer } from "../../scripts/lib/server.mjs";

const { values } = parseArgs({
  options: {
    "crash-at": { type: "string", default: "2500,4000,paying+0,paying+600" },
    shoppers: { type: "string", default: "200" },
    units: { type: "string", default: "60" },
    port: { type: "string", default: "8800" },
    // A payment nobody told its cart about is the sweeper's once its checkout is a minute old
    // (SWEEP_MIN_AGE_MS), and the sweeper works through older unsettled checkouts first (a
    // run's refused attempts among them): two minutes covers that on a loaded machine. A hold
    // the cart never recorded (a kill between the grant and the cart's write) is the cron's to
    // release once it is past ORPHANED_HOLD_GRACE_MS (two minutes, counted from the grant), so
    // three minutes leaves room for both. The loop stops as soon as everything adds up, so a
    // healthy run never waits for it.
    "converge-timeout": { type: "string", default: "180000" },
    keep: { type: "boolean", default: false },
    // Where stock is held: "checkout" races at checkout, "cart" holds from add-to-cart (flash sale).
    policy: { type: "string", default: "checkout,cart" },
  },
});
const CRASH_AT = values["crash-at"].split(",");
const SHOPPERS = Number(values.shoppers);
const UNITS = Number(values.units);
const PORT = Number(values.port);
const CONVERGE_TIMEOUT_MS = Number(values["converge-timeout"]);
const POLICIES = values.policy.split(",");
const PRODUCTS = 24;
const CARD_OK = "4242424242424242";
const ADDRESS = {
  name: "Crash Shopper",
  line1: "1 Kill St",
  city: "Austin",
  postal_code: "78701",
  country: "US",
};

/** One SKU per run, so runs on the same state never share stock. */
const SKUS = [...seedProducts({ products: PRODUCTS })]
  .filter((item) => item.product.status === "active" && item.product.slug !== FLASH_SALE.slug)
  .flatMap((item) => item.variants.filter((v) => v.status === "active").map((v) => v.sku));

class Crashed extends Error {}

const log = (message, fields = {}) => console.log(JSON.stringify({ message, ...fields }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** workerd processes started by this process's Miniflare. */
function workerdPids() {
  const out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, comm]) => comm === "workerd")
    .map(([pid]) => Number(pid));
}

class Runtime {
  constructor(state) {
    this.state = state;
    this.server = null;
    this.base = null;
  }
  async start(build) {
    this.server = await startServer({
      port: PORT,
      persist: this.state,
      quiet: true,
      // Every restart appends here: a failed run shows its warnings and errors from it.
      logFile: join(this.state, "workerd.log"),
      envFile: ".dev.vars.example",
      build,
      triggerHandlers: true,
    });
    this.base = String(this.server.url).replace(/\/+$/, "");
  }
  /** SIGKILL, no goodbye: whatever workerd had not written to disk is gone. */
  async kill() {
    const pids = workerdPids();
    assert.ok(pids.length > 0, "no workerd process to kill");
    for (const pid of pids) process.kill(pid, "SIGKILL");
    const dead = this.server;
    this.server = null;
    await dead.close().catch(() => {});
    return pids;
  }
  async stop() {
    if (this.server) await this.server.close();
    this.server = null;
  }
  d1() {
    return this.server.mf.getD1Database("DB");
  }
}

let runtime;
let adminToken;

async function call(method, path, { body, headers = {}, expect } = {}) {
  let res;
  try {
    res = await fetch(`${runtime.base}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Crashed(`${method} ${path}: ${error.cause?.code ?? error.message}`);
  }
  let text;
  try {
    text = await res.text();
  } catch (error) {
    throw new Crashed(`${method} ${path}: body cut (${error.cause?.code ?? error.message})`);
  }
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Miniflare answers 5xx without JSON when workerd is gone; anything else is a bug.
    if (res.status >= 500) throw new Crashed(`${method} ${path}: ${res.status} without a body`);
    throw new Error(`${method} ${path} answered ${res.status} with ${text.slice(0, 200)}`);
  }
  if (expect && !expect.includes(res.status)) {
    throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  }
  return { status: res.status, json };
}

const admin = (method, path, body) =>
  call(method, `/admin/api${path}`, {
    body,
    headers: { authorization: `Bearer ${adminToken}` },
    expect: [200, 201],
  }).then((r) => r.json);

/** A shopper who buys one unit and, after a crash, picks up where the last answer left them. */
class Shopper {
  constructor(run, i, sku) {
    this.i = i;
    this.sku = sku;
    this.ip = `10.${run}.${(i >> 8) & 255}.${i & 255}`;
    this.email = `crash-${run}-${i}@example.com`;
    this.key = `crash-${run}-${i}-${Math.random().toString(36).slice(2, 12)}`;
    this.step = "cart";
    this.outcome = null;
    this.confirmed = false;
    this.crashes = 0;
    // Every fourth shopper who paid never comes back after a crash (closed the tab): their
    // order has to appear without them.
    this.leavesAfterPaying = i % 4 === 0;
    this.cart = null;
    this.checkoutId = null;
  }
  headers() {
    return { "cf-connecting-ip": this.ip, ...(this.cart ? { "x-cart-token": this.cart.token } : {}) };
  }
  async cartCall(method, path, body) {
    return call(method, `/api/carts/${this.cart.id}${path}`, { body, headers: this.headers() });
  }
  /** Runs until an outcome, or throws `Crashed` when the runtime vanished mid-request. */
  async shop() {
    if (this.crashes > 0 && this.confirmed && this.leavesAfterPaying) return this.finish("left_after_paying");
    for (let turns = 0; this.outcome === null; turns++) {
      if (turns > 40) return this.finish("stuck", { step: this.step });
      await this.next();
    }
  }
  async next() {
    switch (this.step) {
      case "cart": {
        const r = await call("POST", "/api/carts", {
          body: { currency: "USD", email: this.email },
          headers: this.headers(),
        });
        if (r.status !== 201) return this.finish("error", { step: "cart", status: r.status, body: r.json });
        this.cart = { id: r.json.id, token: r.json.token };
        this.step = "line";
        return;
      }
      case "line": {
        // A retried add could double the line: look first, as a client that lost the answer would.
        const seen = await this.cartCall("GET", "");
        if (seen.status === 200 && seen.json.lines.some((line) => line.sku === this.sku)) {
          this.step = "address";
          return;
        }
        const r = await this.cartCall("POST", "/lines", { sku: this.sku, quantity: 1 });
        if (r.status === 200) this.step = "address";
        else if (r.status === 409 && r.json?.code === "sold_out") this.finish("sold_out_at_cart");
        else if (r.status === 503) await sleep(500);
        else this.finish("error", { step: "line", status: r.status, code: r.json?.code });
        return;
      }
      case "address": {
        const r = await this.cartCall("PUT", "/shipping-address", ADDRESS);
        if (r.status === 200 || r.json?.code === "cart_locked") this.step = "method";
        else if (r.status === 503) await sleep(500);
        else this.finish("error", { step: "address", status: r.status, code: r.json?.code });
        return;
      }
      case "method": {
        const r = await this.cartCall("PUT", "/shipping-method", { id: "us_standard" });
        if (r.status === 200 || r.json?.code === "cart_locked") this.step = "checkout";
        else if (r.status === 503) await sleep(500);
        else this.finish("error", { step: "method", status: r.status, code: r.json?.code });
        return;
      }
      case "checkout": {
        const r = await call("POST", `/api/carts/${this.cart.id}/checkout`, {
          headers: { ...this.headers(), "idempotency-key": this.key },
        });
        return this.onCheckout(r);
      }
      case "confirm": {
        this.confirmed = true;
        const r = await call("POST", `/api/checkouts/${this.checkoutId}/confirm`, {
          body: { card_number: CARD_OK },
          headers: this.headers(),
        });
        if (r.status === 200) return this.onCheckoutState(r.json, true);
        if (r.status === 503) return sleep(500);
        return this.finish("error", { step: "confirm", status: r.status, code: r.json?.code });
      }
      case "poll": {
        const r = await call("GET", `/api/checkouts/${this.checkoutId}`, { headers: this.headers() });
        if (r.status === 200) return this.onCheckoutState(r.json, true);
        return this.finish("error", { step: "poll", status: r.status, code: r.json?.code });
      }
    }
  }
  onCheckout(r) {
    if (r.status === 200 || r.status === 201) return this.onCheckoutState(r.json, false);
    if (r.status === 409 && r.json?.code === "sold_out") return this.finish("sold_out_at_checkout");
    if (r.status === 503) return sleep(500);
    return this.finish("error", { step: "checkout", status: r.status, code: r.json?.code });
  }
  async onCheckoutState(checkout, afterConfirm) {
    this.checkoutId = checkout.id;
    if (checkout.status === "completed") return this.finish("completed", { order: checkout.order?.number });
    if (checkout.status === "failed" || checkout.status === "expired") {
      return this.finish(`checkout_${checkout.status}`, { code: checkout.failure?.code });
    }
    if (!afterConfirm || checkout.status === "requires_action") {
      this.step = "confirm";
      return;
    }
    // Confirmed, not completed yet: the completion is being driven; look again shortly.
    this.step = "poll";
    await sleep(300);
  }
  finish(outcome, detail = {}) {
    this.outcome = outcome;
    this.detail = detail;
  }
}

async function settleAll(shoppers, concurrency) {
  let next = 0;
  const pending = shoppers.filter((s) => s.outcome === null);
  await Promise.all(
    Array.from({ length: Math.min(concurrency, pending.length) }, async () => {
      while (next < pending.length) {
        const shopper = pending[next++];
        try {
          await shopper.shop();
        } catch (error) {
          if (!(error instanceof Crashed)) throw error;
          shopper.crashes++;
        }
      }
    }),
  );
}

async function inventoryOf(sku) {
  return admin("GET", `/inventory/${encodeURIComponent(sku)}`);
}

/** The figures the assertions are about, straight from D1 and the inventory objects. */
async function figures(sku, shoppers) {
  const db = await runtime.d1();
  const inventory = await inventoryOf(sku);
  const orders = await db
    .prepare(
      `SELECT o.id, o.email, o.checkout_id, o.flags, l.quantity FROM orders o
       JOIN order_lines l ON l.order_id = o.id WHERE l.sku = ?1`,
    )
    .bind(sku)
    .all();
  const kept = orders.results.filter((o) => !JSON.parse(o.flags).includes("stock_lost_refunded"));
  const emails = new Map();
  for (const o of orders.results) emails.set(o.email, (emails.get(o.email) ?? 0) + 1);
  const charged = await db
    .prepare(
      `SELECT p.id, p.checkout_id, p.email FROM test_payments p
       WHERE p.status = 'succeeded' AND p.email LIKE ?1
         AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.checkout_id = p.checkout_id)`,
    )
    .bind(shoppers[0].email.replace(/-\d+@/, "-%@"))
    .all();
  const outcomes = {};
  for (const s of shoppers) outcomes[s.outcome ?? "none"] = (outcomes[s.outcome ?? "none"] ?? 0) + 1;
  return {
    on_hand: inventory.on_hand,
    available: inventory.available,
    reserved: inventory.reserved,
    sold: inventory.sold,
    orders: kept.length,
    units_ordered: kept.reduce((total, o) => total + o.quantity, 0),
    refunded_orders: orders.results.length - kept.length,
    shoppers_with_two_orders: [...emails.values()].filter((n) => n > 1).length,
    charges_without_order: charged.results.map((p) => p.checkout_id),
    paid_then_refused: shoppers
      .filter((s) => s.confirmed && !["completed", "left_after_paying"].includes(s.outcome))
      .map((s) => s.email),
    outcomes,
  };
}

async function audit() {
  const res = await call("GET", "/admin/api/audit?min_age_seconds=0", {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  return res.status === 200 ? res.json : null;
}

/**
 * Runs the cron handler (the checkout sweeper, the outbox sweeper, the auditor and its release
 * of orphaned holds) once, as the platform would every minute. Miniflare 5 serves the trigger at
 * `/cdn-cgi/local/scheduled`; anything but its 200 fails the run, because a tick that silently
 * does nothing (the old `/cdn-cgi/handler/scheduled` now reaches the app's 404) leaves every
 * payment its cart never heard of unrecovered and the run red for the wrong reason.
 */
async function tick() {
  await call("GET", "/cdn-cgi/local/scheduled?cron=*+*+*+*+*&format=json", { expect: [200] });
}

async function converge(sku, shoppers) {
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  let last;
  for (;;) {
    await tick();
    last = await figures(sku, shoppers);
    const report = await audit();
    const clean =
      last.sold === last.units_ordered &&
      last.charges_without_order.length === 0 &&
      (report === null || report.discrepancies.length === 0);
    if (clean || Date.now() > deadline) return { ...last, audit: report };
    await sleep(1000);
  }
}

async function storm(run, crashAt) {
  const sku = SKUS[run];
  const policy = POLICIES[run % POLICIES.length];
  await admin("PUT", `/inventory/${encodeURIComponent(sku)}/sale`, {
    reserve_on_add_to_cart: policy === "cart",
    reservation_ttl_seconds: 600,
    per_customer_limit: 2,
    max_per_reservation: 2,
  });
  await admin("PUT", `/inventory/${encodeURIComponent(sku)}`, { on_hand: UNITS, reason: `crash run ${run}` });
  const shoppers = Array.from({ length: SHOPPERS }, (_, i) => new Shopper(run, i, sku));
  const started = Date.now();
  const crowd = settleAll(shoppers, SHOPPERS);
  const paying = /^paying\+(\d+)$/.exec(crashAt);
  if (paying) {
    while (!shoppers.some((s) => s.confirmed) && Date.now() - started < 60_000) await sleep(20);
    await sleep(Number(paying[1]));
  } else {
    await sleep(Number(crashAt));
  }
  const beforeCrash = shoppers.filter((s) => s.outcome === "completed").length;
  const steps = {};
  for (const s of shoppers) {
    const at = s.outcome ?? s.step;
    steps[at] = (steps[at] ?? 0) + 1;
  }
  const killed = await runtime.kill();
  await crowd;
  log("crashed", {
    run,
    sku,
    crash_at: crashAt,
    after_ms: Date.now() - started,
    workerd_pids: killed,
    steps,
  });
  await runtime.start(false);
  log("restarted", { run, after_ms: Date.now() - started });
  // Retries arrive as shoppers notice, not all in the same millisecond.
  await settleAll(shoppers, 32);
  const result = await converge(sku, shoppers);
  return { run, sku, policy, crash_at: crashAt, completed_before_crash: beforeCrash, ...result };
}

/** The last warnings and errors workerd logged (completion, sweeper, breaker …), newest last. */
async function troubleIn(file, limit = 40) {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => /"level":"(warn|error)"|\\"level\\":\\"(warn|error)\\"/.test(line))
    .slice(-limit)
    .map((line) => line.slice(0, 600));
}

function check(result) {
  const failures = [];
  const expect = (ok, what) => {
    if (!ok) failures.push(what);
  };
  expect(result.sold <= UNITS, `oversold: ${result.sold} > ${UNITS}`);
  expect(
    result.on_hand === result.available + result.reserved + result.sold,
    `counters: on_hand ${result.on_hand} != ${result.available} + ${result.reserved} + ${result.sold}`,
  );
  expect(
    result.units_ordered === result.sold,
    `units sold ${result.sold} != units ordered ${result.units_ordered}`,
  );
  expect(
    result.shoppers_with_two_orders === 0,
    `${result.shoppers_with_two_orders} shoppers with two orders`,
  );
  expect(
    result.charges_without_order.length === 0,
    `charges without an order: ${result.charges_without_order.join(", ")}`,
  );
  expect(
    result.paid_then_refused.length === 0,
    `paid but not completed: ${result.paid_then_refused.join(", ")}`,
  );
  const unexpected = Object.keys(result.outcomes).filter(
    (o) => !["completed", "sold_out_at_cart", "sold_out_at_checkout", "left_after_paying"].includes(o),
  );
  expect(unexpected.length === 0, `unexpected outcomes: ${JSON.stringify(result.outcomes)}`);
  expect(result.audit !== null, "GET /admin/api/audit did not answer");
  expect(
    result.audit === null || result.audit.discrepancies.length === 0,
    `audit: ${JSON.stringify(result.audit?.discrepancies?.slice(0, 5))}`,
  );
  return failures;
}

const state = await mkdtemp(join(tmpdir(), "popcart-crash-"));
let failed = false;
try {
  const t0 = Date.now();
  await migrateLocal({ persistTo: state });
  await seedLocal({ persistTo: state, products: PRODUCTS });
  adminToken = await localAdminToken();
  runtime = new Runtime(state);
  await runtime.start(true);
  log("ready", { state, setup_ms: Date.now() - t0 });
  for (const [run, crashAt] of CRASH_AT.entries()) {
    const result = await storm(run, crashAt);
    const failures = check(result);
    const { audit: report, ...summary } = result;
    log(failures.length === 0 ? "ok" : "FAILED", {
      ...summary,
      audit_discrepancies: report?.discrepancies?.length ?? null,
      failures,
    });
    if (failures.length > 0) {
      failed = true;
      log("logs", { warnings_and_errors: await troubleIn(join(state, "workerd.log")) });
    }
  }
  log("done", { seconds: Math.round((Date.now() - t0) / 1000) });
} finally {
  await runtime?.stop().catch(() => {});
  // A failed run keeps its state (object and D1 files, workerd.log) for a post-mortem.
  if (!values.keep && !failed) await rm(state, { recursive: true, force: true });
  else log("state kept", { state });
}
process.exit(failed ? 1 : 0);
