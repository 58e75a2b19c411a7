import { exports } from "cloudflare:workers";
import { newEvent } from "../workers/events/envelope";
import type { Notification, Notifier } from "../workers/fulfilment/notifier";
import { newId } from "../workers/lib/ids";
import type { OrderEvent, OrderSnapshot } from "../workers/orders/events";

export const WEBHOOK_SECRET = "test-fulfilment-secret";

export function snapshot(overrides: Partial<OrderSnapshot> = {}): OrderSnapshot {
  return {
    order_number: `PC-${Math.floor(Math.random() * 1e6)}`,
    email: "shopper@example.com",
    currency: "USD",
    total: 4998,
    lines: [{ sku: "TEE-BLK-M", title: "Tee / Black / M", quantity: 2, unit_price: 2499 }],
    shipping_address: { line1: "1 Main St", city: "Springfield", country: "US", postal_code: "12345" },
    shipping_method: { id: "standard", name: "Standard" },
    ...overrides,
  };
}

export function placed(orderId: string, order = snapshot()): OrderEvent {
  return newEvent({ type: "order.placed" as const, version: 1 as const, order_id: orderId, order });
}

export function paid(orderId: string, order = snapshot()): OrderEvent {
  return newEvent({
    type: "order.paid" as const,
    version: 1 as const,
    order_id: orderId,
    order,
    payment: { provider: "test", payment_id: "pay_test", amount: order.total },
  });
}

export const newOrderId = () => newId("ord");

/** A warehouse stand-in: the edge worker's own signed-webhook receiver, reached in-process. */
export function receiverFetch(
  calls: { url: string; idempotencyKey: string | null; status: number }[],
  failTimes = 0,
) {
  let failuresLeft = failTimes;
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      calls.push({ url: request.url, idempotencyKey: request.headers.get("idempotency-key"), status: 503 });
      return new Response("unavailable", { status: 503 });
    }
    const response = await exports.default.fetch(request);
    calls.push({
      url: request.url,
      idempotencyKey: request.headers.get("idempotency-key"),
      status: response.status,
    });
    return response;
  }) as typeof fetch;
}

export function recordingNotifier(): Notifier & { sent: Notification[] } {
  const sent: Notification[] = [];
  return {
    sent,
    async send(notification) {
      sent.push(notification);
    },
  };
}
