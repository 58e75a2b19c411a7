import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { customerIdentity } from "../workers/customers/identity";
import { configureSale, getInventory } from "../workers/inventory/service";
import { objectName } from "../workers/inventory/types";
import { newId } from "../workers/lib/ids";
import { body, CARDS, checkout, confirm, readyCart, stockedSku, stockOf } from "./checkout-fixtures";
import { callJson, expectProblem } from "./helpers";
import { expectConsistent } from "./inventory-fixtures";
import { addLine, newCart, type TestCart, US_ADDRESS } from "./revenue-fixtures";

/** A flash-sale SKU holding stock from add-to-cart, at most `limit` units per customer. */
async function limitedSku(limit: number, options: { stock?: number; shards?: number } = {}) {
  const sku = await stockedSku(options.stock ?? 20, { flash: true });
  await configureSale(env, {
    sku,
    policy: { per_customer_limit: limit },
    ...(options.shards === undefined ? {} : { shards: options.shards }),
  });
  return sku;
}

const setEmail = (cart: TestCart, email: string) =>
  callJson(`/api/carts/${cart.id}/email`, "PUT", { email }, cart.headers);

async function cartWithEmail(email: string): Promise<TestCart> {
  const cart = await newCart("USD");
  expect((await setEmail(cart, email)).status).toBe(200);
  return cart;
}

describe("per-customer limits against the customer's identity", () => {
  it("normalises an email's case, +tag and Gmail dots into one identity", () => {
    expect(customerIdentity("  Ann.Lee+flash@GMail.com ")).toBe("annlee@gmail.com");
    expect(customerIdentity("ann.lee@googlemail.com")).toBe("annlee@gmail.com");
    expect(customerIdentity("Ann.Lee+x@Example.com")).toBe("ann.lee@example.com");
  });

  it("holds no per-customer limited stock for a cart that has not given an email", async () => {
    const sku = await limitedSku(2);
    const cart = await newCart("USD");
    await expectProblem(await addLine(cart, sku, 2), 409, "email_required");
    expect((await stockOf(sku)).reserved).toBe(0);
  });

  it("sells one customer no more than the limit across carts and spellings of the email", async () => {
    const sku = await limitedSku(2);
    const first = await cartWithEmail("Shopper+one@Example.com");
    expect((await addLine(first, sku, 2)).status).toBe(200);
    const second = await cartWithEmail("shopper@example.com");
    await expectProblem(await addLine(second, sku, 1), 409, "purchase_limit_exceeded");
    // A cart that held stock under another email cannot hand it to a customer at the limit.
    const third = await cartWithEmail(`other-${crypto.randomUUID()}@example.com`);
    expect((await addLine(third, sku, 2)).status).toBe(200);
    await expectProblem(await setEmail(third, "SHOPPER+two@example.com"), 409, "purchase_limit_exceeded");
    expect((await stockOf(sku)).reserved).toBe(4);

    // The first cart pays; the limit still holds for everything after it.
    const ready = await readyCart([], { email: "shopper+one@example.com" });
    await expectProblem(await addLine(ready, sku, 1), 409, "purchase_limit_exceeded");
    await callJson(`/api/carts/${first.id}/shipping-address`, "PUT", US_ADDRESS, first.headers);
    await callJson(`/api/carts/${first.id}/shipping-method`, "PUT", { id: "us_standard" }, first.headers);
    const started = await body(await checkout(first));
    expect((await body(await confirm(first, started.id, CARDS.ok))).status).toBe("completed");
    expect(await stockOf(sku)).toMatchObject({ sold: 2, reserved: 2 });
  });

  it("moves a sharded SKU's hold to the new customer's shard so their limit is exact", async () => {
    const sku = await limitedSku(2, { shards: 4 });
    const holder = await cartWithEmail(`limit-${crypto.randomUUID()}@example.com`);
    expect((await addLine(holder, sku, 2)).status).toBe(200);
    const mover = await cartWithEmail(`mover-${crypto.randomUUID()}@example.com`);
    expect((await addLine(mover, sku, 1)).status).toBe(200);
    const before = (await getInventory(env, sku)).reservations.find((r) => r.holder === mover.id);
    // The holder's customer is at the limit, whichever shard the mover's hold started on.
    const holderEmail = (
      (await (await callJson(`/api/carts/${holder.id}`, "GET", undefined, holder.headers)).json()) as {
        email: string;
      }
    ).email;
    await expectProblem(await setEmail(mover, holderEmail.toUpperCase()), 409, "purchase_limit_exceeded");
    const fresh = `fresh-${crypto.randomUUID()}@example.com`;
    expect((await setEmail(mover, fresh)).status).toBe(200);
    const after = (await getInventory(env, sku)).reservations.filter((r) => r.holder === mover.id);
    expect(after).toHaveLength(1);
    // Moving never renews a hold: same first grant, same deadline.
    expect(after[0]).toMatchObject({
      quantity: 1,
      created_at: before?.created_at,
      expires_at: before?.expires_at,
    });
    const view = await expectConsistent(sku);
    expect(view.reserved).toBe(3);
  });

  it("refuses to commit a hold for a buyer who is already at the limit", async () => {
    const sku = await limitedSku(2);
    const stub = env.INVENTORY.getByName(objectName({ sku, shard: 0 }));
    const address = { sku, shard: 0 };
    const anonymous = await stub.reserve(address, { holder: "cart_a", quantity: 1, key: newId("req") });
    const owned = await stub.reserve(address, {
      holder: "cart_b",
      customer: "ann@example.com",
      quantity: 2,
      key: newId("req"),
    });
    if (!anonymous.ok || !owned.ok) throw new Error("setup reservations refused");
    expect(
      await stub.commit(address, {
        reservationId: anonymous.reservation.id,
        orderId: "chk_a",
        customer: "ann@example.com",
      }),
    ).toEqual({ ok: false, reason: "limit_exceeded" });
    expect(
      await stub.commit(address, {
        reservationId: owned.reservation.id,
        orderId: "chk_b",
        customer: "ann@example.com",
      }),
    ).toEqual({ ok: true });
  });
});
