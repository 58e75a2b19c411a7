import { env } from "cloudflare:workers";
import { commitReservation, reserveStock } from "../workers/inventory/service";
import { placeOrder } from "../workers/orders/service";
import { confirmTestPayment, TEST_CARDS, TestPaymentProvider } from "../workers/payments/test-provider";
import { randomSku, stockSku } from "./inventory-fixtures";

const uid = () => crypto.randomUUID().replaceAll("-", "");

/** A paid order for 3 units of a fresh SKU (stock 10), its reservation committed as checkout does. */
export async function paidOrderWithStock() {
  const sku = randomSku("CANCEL");
  await stockSku(sku, 10);
  const checkoutId = `chk_${uid()}`;
  const reserved = await reserveStock(env, { sku, holder: checkoutId, quantity: 3, key: `r:${checkoutId}` });
  if (!reserved.ok) throw new Error(`reserve failed: ${reserved.reason}`);
  const provider = new TestPaymentProvider(env);
  const session = await provider.createPayment({
    checkoutId,
    cartId: "cart_x",
    amount: { amount: 3000, currency: "USD" },
    idempotencyKey: `create:${checkoutId}`,
  });
  await confirmTestPayment(env, session.payment_id, TEST_CARDS.succeeds);
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
    payment: { provider: "test", payment_id: session.payment_id, amount: 3000, status: "succeeded" },
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
