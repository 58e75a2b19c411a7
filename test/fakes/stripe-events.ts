/**
 * A Stripe `event` envelope around `object`, shaped as Stripe's API version sends it, for
 * signing with `Stripe.webhooks.generateTestHeaderStringAsync` and posting to the webhook route.
 */
export function stripeEvent<T extends Record<string, unknown>>(
  type: string,
  object: T,
  id = `evt_${crypto.randomUUID().replaceAll("-", "")}`,
) {
  return {
    id,
    object: "event",
    api_version: "2026-10-28.endive",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}
