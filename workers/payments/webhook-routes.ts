import { createRoute, z } from "@hono/zod-openapi";
import Stripe from "stripe";
import { log } from "../lib/logging";
import { ApiError, problems } from "../lib/problem";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { reconcileProviderRefund } from "../orders/refunds";
import type { PaymentOutcome, PaymentOutcomeHandler } from "./provider";
import { moneyFromStripe } from "./stripe-provider";

/** Stripe's own default: a signed delivery older than five minutes is treated as a replay. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** A claim older than this belongs to a delivery that died mid-way; another may take it over. */
const STALE_CLAIM_MS = 60_000;

const cryptoProvider = Stripe.createSubtleCryptoProvider();

const OUTCOME_STATUS = {
  "payment_intent.succeeded": "succeeded",
  "payment_intent.payment_failed": "failed",
  "payment_intent.canceled": "canceled",
  "payment_intent.requires_action": "requires_action",
} as const satisfies Record<string, PaymentOutcome["status"]>;

type Claim = { state: "claimed"; claimedAt: number } | { state: "processed" } | { state: "in_progress" };

/** Claims an event id for processing; exactly one concurrent delivery gets `claimed`. */
async function claimEvent(env: Env, eventId: string, type: string): Promise<Claim> {
  const now = Date.now();
  const result = await env.DB.prepare(
    `INSERT INTO stripe_webhook_events (event_id, type, status, claimed_at) VALUES (?1, ?2, 'processing', ?3)
     ON CONFLICT(event_id) DO UPDATE SET claimed_at = excluded.claimed_at
     WHERE stripe_webhook_events.status = 'processing' AND stripe_webhook_events.claimed_at < ?4`,
  )
    .bind(eventId, type, now, now - STALE_CLAIM_MS)
    .run();
  if (result.meta.changes > 0) return { state: "claimed", claimedAt: now };
  const row = await env.DB.prepare("SELECT status FROM stripe_webhook_events WHERE event_id = ?1")
    .bind(eventId)
    .first<{ status: string }>();
  return row?.status === "processed" ? { state: "processed" } : { state: "in_progress" };
}

function paymentIntentId(charge: Stripe.Charge): string | null {
  const pi = charge.payment_intent;
  if (!pi) return null;
  return typeof pi === "string" ? pi : pi.id;
}

/** Applies one verified event. Events that are not ours are acknowledged and logged. */
async function dispatch(env: Env, event: Stripe.Event, handler: PaymentOutcomeHandler): Promise<void> {
  if (
    event.type === "payment_intent.succeeded" ||
    event.type === "payment_intent.payment_failed" ||
    event.type === "payment_intent.canceled" ||
    event.type === "payment_intent.requires_action"
  ) {
    const intent = event.data.object;
    const checkoutId = intent.metadata?.checkout_id;
    const cartId = intent.metadata?.cart_id;
    const amount = moneyFromStripe(intent.amount, intent.currency);
    if (!checkoutId || !cartId || !amount) {
      log("warn", "stripe_event_unknown_intent", {
        event_id: event.id,
        type: event.type,
        payment_id: intent.id,
      });
      return;
    }
    const failure = intent.last_payment_error?.message;
    await handler(env, {
      event_id: event.id,
      provider: "stripe",
      payment_id: intent.id,
      checkout_id: checkoutId,
      cart_id: cartId,
      status: OUTCOME_STATUS[event.type],
      amount,
      ...(failure ? { failure_message: failure } : {}),
    });
    return;
  }
  if (event.type === "charge.refunded") {
    const charge = event.data.object;
    const paymentId = paymentIntentId(charge);
    const result = paymentId
      ? await reconcileProviderRefund(env, {
          provider: "stripe",
          paymentId,
          refundedAmount: charge.amount_refunded,
          eventId: event.id,
        })
      : { orderId: null, recorded: 0 };
    if (!result.orderId) {
      log("warn", "stripe_event_unknown_intent", {
        event_id: event.id,
        type: event.type,
        payment_id: paymentId,
      });
    }
    return;
  }
  log("info", "stripe_event_ignored", { event_id: event.id, type: event.type });
}

const stripeWebhook = createRoute({
  method: "post",
  path: "/webhooks/stripe",
  tags: ["Payments"],
  summary: "Stripe webhook endpoint (Stripe-signed events)",
  description:
    "Verifies `Stripe-Signature` over the raw body with a 300 s tolerance, applies each event id once, and answers 409 to a duplicate delivered while the first is still being applied (Stripe retries it).",
  request: {
    headers: z.object({ "stripe-signature": z.string().optional() }),
    // A plain schema object (not zod): the raw bytes must reach the signature check untouched.
    body: { content: { "application/json": { schema: { type: "object" } } }, required: true },
  },
  responses: {
    200: {
      description: "Event applied, or acknowledged (duplicate, not ours, or not handled)",
      content: {
        "application/json": { schema: z.object({ received: z.literal(true), duplicate: z.boolean() }) },
      },
    },
    ...problemResponses(400, 409, 503),
  },
});

/**
 * `POST /webhooks/stripe`. Each verified payment-intent event becomes a `PaymentOutcome`
 * passed to `handler` (the checkout domain's); `charge.refunded` is recorded on the order.
 */
export function createPaymentWebhookRoutes(
  handler: PaymentOutcomeHandler,
  options: { toleranceSeconds?: number } = {},
) {
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  return createRouter().openapi(stripeWebhook, async (c) => {
    const secret = c.env.STRIPE_WEBHOOK_SECRET;
    if (!secret)
      throw problems.unavailable("stripe_webhooks_not_configured", "STRIPE_WEBHOOK_SECRET is not set.", 60);
    const signature = c.req.header("stripe-signature");
    const payload = await c.req.text();
    let event: Stripe.Event;
    try {
      if (!signature) throw new Error("missing Stripe-Signature header");
      event = await Stripe.webhooks.constructEventAsync(
        payload,
        signature,
        secret,
        tolerance,
        cryptoProvider,
      );
    } catch (error) {
      log("warn", "stripe_signature_rejected", {
        request_id: c.get("requestId"),
        error: error instanceof Error ? error.message : String(error),
      });
      throw new ApiError(400, "invalid_signature", "Invalid signature", {
        detail: "The Stripe-Signature header does not match the payload, or is too old.",
      });
    }
    c.get("log").fields.stripe_event = event.id;

    const claim = await claimEvent(c.env, event.id, event.type);
    if (claim.state === "processed") return c.json({ received: true as const, duplicate: true }, 200);
    if (claim.state === "in_progress") {
      throw problems.conflict("event_in_progress", "This event is being applied by another delivery.");
    }
    try {
      await dispatch(c.env, event, handler);
    } catch (error) {
      // Give the claim back so Stripe's retry of this delivery applies the event.
      await c.env.DB.prepare(
        "DELETE FROM stripe_webhook_events WHERE event_id = ?1 AND status = 'processing' AND claimed_at = ?2",
      )
        .bind(event.id, claim.claimedAt)
        .run();
      throw error;
    }
    await c.env.DB.prepare(
      "UPDATE stripe_webhook_events SET status = 'processed', processed_at = ?2 WHERE event_id = ?1",
    )
      .bind(event.id, Date.now())
      .run();
    return c.json({ received: true as const, duplicate: false }, 200);
  });
}
