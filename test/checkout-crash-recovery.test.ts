import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CartObject, CHECKOUT_HOLD_TTL_SECONDS } from "../durable-objects/cart";
import { runAudit } from "../workers/audit/service";
import { SWEEP_RETRY_MS, sweepCheckouts } from "../workers/checkout/sweeper";
import { customerIdentity } from "../workers/customers/identity";
import { confirmTestPayment } from "../workers/payments/test-provider";
import { body, CARDS, checkout, ordersFor, readyCart, stockedSku, stockOf } from "./checkout-fixtures";
import { callJson } from "./helpers";

const cartObject = (cartId: string) => env.CART.get(env.CART.idFromName(cartId));

class InjectedCrash extends Error {}

type Fault = "before_stock_commit" | "after_stock_commit" | "after_order_written" | "reserving_at_checkout";

/**
 * The cart object's env with one dependency failing the way a dying process would: the call at
 * the named point never returns. D1 writes that ran stay written (D1 committed them).
 */
function faultyEnv(real: Env, fault: Fault): Env {
  const failingStub = (method: string) => (stub: object) =>
    new Proxy(stub, {
      get(target, prop, receiver) {
        if (prop === method) {
          return () => Promise.reject(new InjectedCrash(`crash at ${fault}`));
        }
        // A stub answers every property with an RPC method; call through, never `.bind` it.
        return (...args: unknown[]) =>
          Reflect.apply(Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown, target, args);
      },
    });
  const inventory = (method: string) =>
    new Proxy(real.INVENTORY, {
      get(target, prop) {
        if (prop === "getByName") return (name: string) => failingStub(method)(target.getByName(name));
        if (prop === "get") return (id: DurableObjectId) => failingStub(method)(target.get(id));
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const db = (after: boolean) =>
    new Proxy(real.DB, {
      get(target, prop) {
        if (prop === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            if (!after) throw new InjectedCrash(`crash at ${fault}`);
            await target.batch(statements);
            throw new InjectedCrash(`crash at ${fault}`);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  switch (fault) {
    case "before_stock_commit":
      return { ...real, INVENTORY: inventory("commit") };
    case "after_stock_commit":
      return { ...real, DB: db(false) };
    case "after_order_written":
      return { ...real, DB: db(true) };
    case "reserving_at_checkout":
      return { ...real, INVENTORY: inventory("reserve") };
  }
}

/** Swaps the running cart object's dependencies for failing ones. */
async function inject(stub: DurableObjectStub<CartObject>, fault: Fault) {
  await runInDurableObject(stub, (instance) => {
    const object = instance as unknown as { env: Env };
    object.env = faultyEnv(object.env, fault);
  });
}

/**
 * The process dies: the object's memory (its faulty env included) is gone, its storage is not.
 * Returns a fresh stub (the old one is broken by the reset, as a client's would be).
 */
async function crash(cartId: string): Promise<DurableObjectStub<CartObject>> {
  await runInDurableObject(cartObject(cartId), (_instance, state) => {
    state.abort("simulated crash");
  }).catch(() => undefined);
  return cartObject(cartId);
}

/** The message a call failed with ("" if it succeeded), handling the rejection right away. */
async function failure(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "",
    (error: unknown) => String(error),
  );
}

async function paidCheckout(stock = 5) {
  const sku = await stockedSku(stock);
  const cart = await readyCart([{ sku, quantity: 1 }]);
  const key = crypto.randomUUID();
  const started = await body(await checkout(cart, key));
  const paymentId = started.payment?.payment_id ?? "";
  return { sku, cart, key, started, paymentId, stub: cartObject(cart.id) };
}

async function checkoutState(cart: { id: string; headers: Record<string, string> }, id: string) {
  return body(await callJson(`/api/checkouts/${id}`, "GET", undefined, cart.headers));
}

describe("checkout completion survives a crash at every step", () => {
  for (const fault of ["before_stock_commit", "after_stock_commit", "after_order_written"] as const) {
    it(`a crash ${fault.replaceAll("_", " ")} ends in exactly one order once the cart's alarm runs`, async () => {
      const { sku, cart, started, paymentId, stub: before } = await paidCheckout();
      await inject(before, fault);
      const outcome = await confirmTestPayment(env, paymentId, CARDS.ok);
      expect(await failure(before.applyPaymentOutcome(outcome))).toMatch(/crash at/);
      const stub = await crash(cart.id);

      expect(await runDurableObjectAlarm(stub)).toBe(true);

      const orders = await ordersFor(started.id);
      expect(orders).toHaveLength(1);
      expect(await stockOf(sku)).toEqual({ available: 4, reserved: 0, sold: 1 });
      const after = await checkoutState(cart, started.id);
      expect(after.status).toBe("completed");
      expect(after.order?.id).toBe(orders[0]?.id);
      const audit = await runAudit(env, { skus: [sku], minAgeMs: 0 });
      expect(audit.discrepancies.filter((d) => d.checkout_id === started.id || d.sku === sku)).toEqual([]);

      // Every other driver arriving late changes nothing: still one order, one unit sold.
      await stub.applyPaymentOutcome(outcome);
      await runDurableObjectAlarm(stub);
      expect(await ordersFor(started.id)).toHaveLength(1);
      expect((await stockOf(sku)).sold).toBe(1);
    });
  }

  it("a retried checkout with the same key after a crash mid-completion finds its checkout and its order", async () => {
    const { sku, cart, key, started, paymentId, stub } = await paidCheckout();
    await inject(stub, "after_stock_commit");
    const outcome = await confirmTestPayment(env, paymentId, CARDS.ok);
    expect(await failure(stub.applyPaymentOutcome(outcome))).toMatch(/crash at/);
    await crash(cart.id);

    const replay = await body(await checkout(cart, key));
    expect(replay.id).toBe(started.id);
    expect(replay.status).toBe("completed");
    expect(await ordersFor(started.id)).toHaveLength(1);
    expect((await stockOf(sku)).sold).toBe(1);
  });

  it("a completed checkout is settled by the batch that writes its order: the sweeper has nothing to ask", async () => {
    const { started, paymentId, stub } = await paidCheckout();
    const settledAt = () =>
      env.DB.prepare("SELECT settled_at FROM checkout_index WHERE id = ?")
        .bind(started.id)
        .first<number | null>("settled_at");
    expect(await settledAt()).toBeNull();
    await stub.applyPaymentOutcome(await confirmTestPayment(env, paymentId, CARDS.ok));
    expect(await ordersFor(started.id)).toHaveLength(1);
    expect(await settledAt()).toBeGreaterThan(0);
    const { results } = await env.DB.prepare(
      "SELECT id FROM checkout_index WHERE settled_at IS NULL AND created_at <= ?",
    )
      .bind(Date.now() + 2 * 60 * 1000)
      .all<{ id: string }>();
    expect(results.map((row) => row.id)).not.toContain(started.id);
  });

  it("a payment that succeeded while nobody told the cart becomes an order through the sweeper", async () => {
    const { sku, started, paymentId } = await paidCheckout();
    // The confirmation reached the provider; the process died before the cart heard of it.
    await confirmTestPayment(env, paymentId, CARDS.ok);
    const before = await runAudit(env, { skus: [sku], minAgeMs: 0 });
    expect(before.discrepancies.map((d) => [d.kind, d.checkout_id])).toContainEqual([
      "charge_without_order",
      started.id,
    ]);

    const swept = await sweepCheckouts(env, Date.now() + 2 * 60 * 1000);
    expect(swept.failed).toBe(0);

    expect(await ordersFor(started.id)).toHaveLength(1);
    expect((await stockOf(sku)).sold).toBe(1);
    const after = await runAudit(env, { skus: [sku], minAgeMs: 0 });
    expect(after.discrepancies.filter((d) => d.checkout_id === started.id || d.sku === sku)).toEqual([]);
  });

  it("checkouts abandoned at the payment step never keep a newer paid one from the sweeper", async () => {
    // Three checkouts left awaiting payment, then one paid while nobody told its cart.
    for (let i = 0; i < 3; i++) await paidCheckout();
    const { started, paymentId } = await paidCheckout();
    await confirmTestPayment(env, paymentId, CARDS.ok);
    const later = Date.now() + 2 * 60 * 1000;
    const unsettled = await env.DB.prepare(
      "SELECT count(*) AS n FROM checkout_index WHERE settled_at IS NULL",
    ).first<{ n: number }>();
    // Two per tick, oldest first: without turns the same two abandoned checkouts would take
    // every tick. With them every unsettled checkout is asked within ceil(n / 2) ticks.
    let ticks = 0;
    while ((await ordersFor(started.id)).length === 0 && ticks < Math.ceil((unsettled?.n ?? 0) / 2)) {
      await sweepCheckouts(env, later, { batch: 2 });
      ticks++;
    }
    expect(await ordersFor(started.id)).toHaveLength(1);
    // The abandoned ones are still pending: asked again once their retry time comes.
    expect((await sweepCheckouts(env, later, { batch: 10 })).checked).toBe(0);
    expect((await sweepCheckouts(env, later + SWEEP_RETRY_MS, { batch: 10 })).pending).toBeGreaterThanOrEqual(
      3,
    );
  });

  it("a checkout retried with the same key after a crash while reserving resumes the same checkout and holds once", async () => {
    const sku = await stockedSku(1);
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const stub = cartObject(cart.id);
    const key = crypto.randomUUID();
    await inject(stub, "reserving_at_checkout");
    expect((await checkout(cart, key)).status).toBe(500);
    await crash(cart.id);

    const retried = await checkout(cart, key);
    const resumed = await body(retried);
    expect(resumed.status).toBe("awaiting_payment");
    expect(resumed.id).toBe(await checkoutIdOf(cart.id, key));
    expect(await stockOf(sku)).toEqual({ available: 0, reserved: 1, sold: 0 });

    const paid = await body(
      await callJson(`/api/checkouts/${resumed.id}/confirm`, "POST", { card_number: CARDS.ok }, cart.headers),
    );
    expect(paid.status).toBe("completed");
    expect(await stockOf(sku)).toEqual({ available: 0, reserved: 0, sold: 1 });
  });

  it("a checkout abandoned mid-reservation gives its units back when its resume window ends", async () => {
    const sku = await stockedSku(1);
    const email = `crash-${crypto.randomUUID()}@example.com`;
    const cart = await readyCart([{ sku, quantity: 1 }], { email });
    await inject(cartObject(cart.id), "reserving_at_checkout");
    expect((await checkout(cart)).status).toBe(500);
    const stub = await crash(cart.id);
    // The hold may have been granted before the crash: take it for sure, as the dying run may have.
    const key = await runInDurableObject(stub, (_instance, state) => {
      const row = state.storage.sql.exec<{ id: string }>("SELECT id FROM checkouts").one();
      state.storage.sql.exec("UPDATE checkouts SET expires_at = ?", Date.now() - 1);
      return row.id;
    });
    const { reserveStock } = await import("../workers/inventory/service");
    // Exactly the request the checkout makes (same key, customer and TTL).
    await reserveStock(env, {
      sku,
      holder: cart.id,
      customer: customerIdentity(email),
      quantity: 1,
      ttlSeconds: CHECKOUT_HOLD_TTL_SECONDS,
      key: `${key}:${sku}`,
    });
    expect((await stockOf(sku)).reserved).toBe(1);

    await runDurableObjectAlarm(stub);

    expect(await stockOf(sku)).toEqual({ available: 1, reserved: 0, sold: 0 });
    const next = await checkout(cart);
    expect([200, 201]).toContain(next.status);
  });
});

async function checkoutIdOf(cartId: string, key: string): Promise<string> {
  return runInDurableObject(
    cartObject(cartId),
    (_instance, state) =>
      state.storage.sql.exec<{ id: string }>("SELECT id FROM checkouts WHERE idempotency_key = ?", key).one()
        .id,
  );
}
