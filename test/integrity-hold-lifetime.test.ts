import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PAYMENT_WINDOW_MS, RESERVATION_GRACE_SECONDS } from "../durable-objects/cart";
import { getInventory } from "../workers/inventory/service";
import { objectName } from "../workers/inventory/types";
import { body, CARDS, checkout, confirm, readyCart, stockedSku } from "./checkout-fixtures";
import { call } from "./helpers";
import type { TestCart } from "./revenue-fixtures";

const TTL_SECONDS = 30;
const EXTENSION_MS = PAYMENT_WINDOW_MS + RESERVATION_GRACE_SECONDS * 1000;

async function holdOf(sku: string, cart: TestCart) {
  const hold = (await getInventory(env, sku)).reservations.find((r) => r.holder === cart.id);
  if (!hold) throw new Error(`no hold for ${cart.id}`);
  return { ...hold, created: Date.parse(hold.created_at), expires: Date.parse(hold.expires_at) };
}

async function cartLineExpiry(cart: TestCart): Promise<string | null> {
  const view = (await (await call(`/api/carts/${cart.id}`, { headers: cart.headers })).json()) as {
    lines: { reservation: { expires_at: string } | null }[];
  };
  return view.lines[0]?.reservation?.expires_at ?? null;
}

describe("a flash-sale hold's whole life is capped", () => {
  it("a declined payment gives back the time its checkout added, and the cart shows the real deadline", async () => {
    const sku = await stockedSku(5, { flash: true, ttlSeconds: TTL_SECONDS });
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const granted = await holdOf(sku, cart);
    expect(granted.expires - granted.created).toBe(TTL_SECONDS * 1000);

    const started = await body(await checkout(cart));
    const extended = await holdOf(sku, cart);
    expect(extended.expires).toBeGreaterThan(granted.expires);
    expect(extended.expires).toBeLessThanOrEqual(granted.created + TTL_SECONDS * 1000 + EXTENSION_MS);
    expect(await cartLineExpiry(cart)).toBe(extended.expires_at);

    expect((await body(await confirm(cart, started.id, CARDS.declined))).status).toBe("failed");
    const after = await holdOf(sku, cart);
    expect(after.expires).toBe(granted.expires);
    expect(await cartLineExpiry(cart)).toBe(granted.expires_at);
  });

  it("caps the deadline at the TTL plus one payment window from the first grant, however many checkouts start", async () => {
    const sku = await stockedSku(5, { flash: true, ttlSeconds: TTL_SECONDS });
    const cart = await readyCart([{ sku, quantity: 1 }]);
    const { id } = await holdOf(sku, cart);
    // As if the hold had been granted 20 minutes ago and kept alive by earlier checkouts.
    const grantedAt = Date.now() - 20 * 60 * 1000;
    await runInDurableObject(env.INVENTORY.getByName(objectName({ sku, shard: 0 })), (_o, state) => {
      state.storage.sql.exec(
        "UPDATE reservations SET created_at = ?, expires_at = ? WHERE id = ?",
        grantedAt,
        Date.now() + 10_000,
        id,
      );
    });
    await body(await checkout(cart));
    const capped = await holdOf(sku, cart);
    expect(capped.expires).toBe(grantedAt + TTL_SECONDS * 1000 + EXTENSION_MS);
    expect(await cartLineExpiry(cart)).toBe(capped.expires_at);
  });
});
