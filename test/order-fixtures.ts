import { env } from "cloudflare:workers";
import { commitReservation, reserveStock } from "../workers/inventory/service";
import type { OrderDraft } from "../workers/orders/schemas";
import { placeOrder } from "../workers/orders/service";
import { confirmTestPayment, TEST_CARDS, TestPaymentProvider } from "../workers/payments/test-provider";
import { randomSku, stockSku } from "./inventory-fixtures";

const uid = () => crypto.randomUUID().replaceAll("-", "");

/**
 * A succeeded payment of `total` USD cents through the test provider, made as checkout makes
 * one (for `checkoutId`, fresh by default): what an order's `payment` then records, so refunds reach it.
 */
export async function testPayment(total: number, cartId = "cart_test", checkoutId = `chk_${uid()}`) {
  const provider = new TestPaymentProvider(env);
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

type DraftLine = OrderDraft["lines"][number];

/**
 * A one-line USD order of `total` cents (default 5500), paid through the test provider, so
 * refunds reach a real (test) payment. `line` overrides the line (sku, quantity, unit price,
 * reservation …); `checkoutId` lets a caller reserve stock for the checkout first.
 */
export async function paidOrder(
  options: { total?: number; cartId?: string; checkoutId?: string; line?: Partial<DraftLine> } = {},
) {
  const total = options.total ?? 5500;
  const cartId = options.cartId ?? "cart_paid";
  const { provider, checkoutId, payment } = await testPayment(total, cartId, options.checkoutId);
  const { order } = await placeOrder(env, {
    checkout_id: checkoutId,
    cart_id: cartId,
    email: "buyer@example.com",
    currency: "USD",
    lines: [
      {
        sku: "SKU",
        variant_id: "var_x",
        product_id: "prod_x",
        title: "Thing",
        quantity: 1,
        unit_price: total,
        total,
        ...options.line,
      },
    ],
    subtotal: total,
    discount_total: 0,
    shipping_total: 0,
    tax_total: 0,
    total,
    tax_inclusive: false,
    shipping_method: { id: "standard", name: "Standard", amount: 0 },
    payment,
    flags: [],
  });
  return { provider, order, payment };
}

/** A paid order for 3 units of a fresh SKU (stock 10), its reservation committed as checkout does. */
export async function paidOrderWithStock() {
  const sku = randomSku("CANCEL");
  await stockSku(sku, 10);
  const checkoutId = `chk_${uid()}`;
  const reserved = await reserveStock(env, { sku, holder: checkoutId, quantity: 3, key: `r:${checkoutId}` });
  if (!reserved.ok) throw new Error(`reserve failed: ${reserved.reason}`);
  const { order } = await paidOrder({
    total: 3000,
    cartId: "cart_x",
    checkoutId,
    line: {
      sku,
      title: "Drop hoodie",
      quantity: 3,
      unit_price: 1000,
      reservation_id: reserved.reservation.id,
    },
  });
  const committed = await commitReservation(env, {
    sku,
    reservationId: reserved.reservation.id,
    orderId: order.id,
  });
  if (!committed.ok) throw new Error(`commit failed: ${committed.reason}`);
  return { order, sku };
}
