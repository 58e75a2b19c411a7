import { env } from "cloudflare:workers";
import { commitReservation, reserveStock } from "../workers/inventory/service";
import { placeOrder } from "../workers/orders/service";
import { confirmTestPayment, TEST_CARDS, TestPaymentProvider } from "../workers/payments/test-provider";
import { randomSku, stockSku } from "./inventory-fixtures";

const uid = () => crypto.randomUUID().replaceAll("-", "");

/**
 * A succeeded payment of `total` USD cents through the test provider, made as checkout makes
 * one (for a fresh checkout id): what an order's `payment` then records, so refunds reach it.
 */
export async function testPayment(total: number, cartId = "cart_test") {
  const provider = new TestPaymentProvider(env);
  const checkoutId = `chk_${uid()}`;
  const session = await provider.createPayment({
    checkoutId,
    cartId,
    amount: { amount: total, currency: "USD" },
    idempotencyKey: `create:${checkoutId}`,
  });
  await confirmTestPayment(env, session.payment_id, TEST_CARDS.succeeds);
  return {
    provider,
    checkoutId,
    payment: {
      provider: "test" as const,
      payment_id: session.payment_id,
      amount: total,
      status: "succeeded" as const,
    },
  };
}

/** A paid order for 3 units of a fresh SKU (stock 10), its reservation committed as checkout does. */
export async function paidOrderWithStock() {
  const sku = randomSku("CANCEL");
  await stockSku(sku, 10);
  const { checkoutId, payment } = await testPayment(3000, "cart_x");
  const reserved = await reserveStock(env, { sku, holder: checkoutId, quantity: 3, key: `r:${checkoutId}` });
  if (!reserved.ok) throw new Error(`reserve failed: ${reserved.reason}`);
  const { order } = await placeOrder(env, {
    checkout_id: checkoutId,
    cart_id: "cart_x",
    email: "buyer@example.com",
    currency: "USD",
    lines: [
      {
        sku,
        variant_id: "var_x",
        product_id: "prod_x",
        title: "Drop hoodie",
        quantity: 3,
        unit_price: 1000,
        total: 3000,
        reservation_id: reserved.reservation.id,
      },
    ],
    subtotal: 3000,
    discount_total: 0,
    shipping_total: 0,
    tax_total: 0,
    total: 3000,
    tax_inclusive: false,
    shipping_method: { id: "standard", name: "Standard", amount: 0 },
    payment,
    flags: [],
  });
  const committed = await commitReservation(env, {
    sku,
    reservationId: reserved.reservation.id,
    orderId: order.id,
  });
  if (!committed.ok) throw new Error(`commit failed: ${committed.reason}`);
  return { order, sku };
}
