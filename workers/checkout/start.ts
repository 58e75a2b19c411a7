import type { CartRow, CheckoutRow } from "../../durable-objects/cart-storage";
import { type CartRefusal, refuse, stockRefusal } from "../cart/refusals";
import { sha256Hex } from "../lib/crypto";
import { DatabaseUnavailableError, databaseDown, databaseOutage } from "../lib/d1-guard";
import { newId } from "../lib/ids";
import { describeError, log } from "../lib/logging";
import {
  isProviderUnavailable,
  type PaymentOutcome,
  PaymentProviderError,
  type PaymentSession,
  paymentIdempotencyKey,
  paymentProviderFor,
} from "../payments/provider";
import { holdPromotionUses } from "../promotions/service";
import type { Admission } from "../waiting-room/admission";
import { abandon, checkoutHolds } from "./cancel";
import { checkoutIndexStatement, indexCheckout } from "./checkout-index";
import { checkoutView } from "./checkout-view";
import { completeCheckout } from "./completion";
import { PAYMENT_RESUME_WINDOW_MS, PAYMENT_WINDOW_MS } from "./deadlines";
import { applySession, expireCheckout } from "./payment-outcome";
import { reserveCheckoutLines } from "./reservations";
import type { CheckoutView } from "./schemas";
import { type CheckoutSnapshot, snapshotCart } from "./snapshot";
import type { CheckoutStore } from "./store";

export type CheckoutResult = { ok: true; checkout: CheckoutView; created: boolean } | CartRefusal;

/**
 * Starts (or replays) a checkout of `cart` (its token checked by the caller) under
 * `idempotencyKey`. The same key returns the same checkout and creates nothing; a different
 * key while a checkout awaits payment is refused, so a cart has at most one live payment.
 */
export async function beginCheckout(
  store: CheckoutStore,
  cart: CartRow,
  input: { idempotencyKey: string; admission: Admission },
): Promise<CheckoutResult> {
  const replay = store.checkoutByKey(input.idempotencyKey);
  const fingerprint = await requestFingerprint(store, cart);
  if (replay && replay.request_fingerprint !== null && replay.request_fingerprint !== fingerprint) {
    return refuse(
      "idempotency_key_reused",
      "This Idempotency-Key started a checkout of the cart as it was then; the cart has changed since. Use a fresh key.",
      { checkout_id: replay.id },
    );
  }
  if (replay) {
    // A checkout whose payment could not be started resumes under the same key, within
    // its resume window (after it, the alarm gives everything back).
    if (replay.completion !== null && replay.order_id === null) {
      await completeCheckout(store, replay, JSON.parse(replay.completion) as PaymentOutcome);
    } else if (replay.status === "pending" && replay.expires_at > Date.now()) {
      return resumeCheckout(store, replay, input.admission);
    } else if (replay.status === "pending") {
      await expireCheckout(store, replay);
    }
    return { ok: true, checkout: checkoutView(store, store.requireCheckout(replay.id)), created: false };
  }
  const active = store.checkouts("active")[0];
  if (active) {
    return refuse("checkout_in_progress", "This cart already has a checkout awaiting payment.", {
      checkout_id: active.id,
    });
  }
  if (cart.status === "completed") return refuse("cart_locked", "This cart has been checked out.");
  const snapshot = await snapshotCart(store.env, cart, store.lines(), store.promotionCodes());
  if (!snapshot.ok) return snapshot;

  const checkoutId = newId("chk");
  const now = Date.now();
  // The key → checkout mapping is written before anything is taken for it: a retry with the
  // same key after a crash at any later step finds this checkout and resumes it, and every
  // hold below is keyed by the checkout id, so resuming never takes stock twice.
  store.insertCheckout({
    id: checkoutId,
    idempotency_key: input.idempotencyKey,
    snapshot: JSON.stringify(snapshot.value),
    promotion_ids: JSON.stringify(snapshot.value.promotions.map((promotion) => promotion.promotion_id)),
    created_at: now,
    expires_at: now + PAYMENT_RESUME_WINDOW_MS,
    request_fingerprint: fingerprint,
  });
  store.setCartStatus("checking_out", now);
  await store.scheduleAlarm();
  return resumeCheckout(store, store.requireCheckout(checkoutId), input.admission);
}

/**
 * A checkout request has no body: what its Idempotency-Key stands for is the cart it checks
 * out (lines, customer, address, shipping, codes). The same key on a changed cart is refused.
 */
function requestFingerprint(store: CheckoutStore, cart: CartRow): Promise<string> {
  const lines = store
    .lines()
    .map((line) => [line.sku, line.quantity] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256Hex(
    JSON.stringify([
      lines,
      cart.email,
      cart.shipping_address,
      cart.shipping_method,
      [...store.promotionCodes()].sort(),
    ]),
  );
}

/** Takes (or finds again) a `pending` checkout's holds, then starts its payment. */
async function resumeCheckout(
  store: CheckoutStore,
  row: CheckoutRow,
  admission: Admission,
): Promise<CheckoutResult> {
  if (row.reserved === 0) {
    const reserved = await reserveFor(store, row, admission);
    if (!reserved.ok) return reserved;
  }
  return startPayment(store, store.requireCheckout(row.id));
}

/**
 * Holds stock for every line of a `pending` checkout and records the holds. Refused: nothing
 * is held any more, so the attempt is forgotten (the key may be tried again) and the cart reopens.
 */
async function reserveFor(
  store: CheckoutStore,
  row: CheckoutRow,
  admission: Admission,
): Promise<{ ok: true } | CartRefusal> {
  const holds = checkoutHolds(store, row);
  const reserved = await reserveCheckoutLines(store.env, { ...holds, admission });
  if (!reserved.ok) {
    // Nothing is held and nothing was recorded in D1 (the index is written with the payment).
    store.deleteCheckout(row.id);
    store.setCartStatus("open", Date.now(), "checking_out");
    await store.touch();
    return stockRefusal(reserved, { sku: reserved.sku, line_id: reserved.line_id });
  }
  // The cart shows each hold's real deadline, capped by the inventory.
  for (const [lineId, expiresAt] of reserved.lineExpiries) {
    store.setLineHold(lineId, { reservation_expires_at: expiresAt });
  }
  // Recorded before promotion uses are held: from here on the checkout's alarm (or a replay)
  // can always find and give back what it took.
  store.updateCheckout(row.id, { reservations: JSON.stringify(reserved.reservations), reserved: 1 });
  return { ok: true };
}

/**
 * Takes the promotion uses and creates the payment for a `pending` checkout. Both steps are
 * idempotent (per checkout), so a replay after a crash or timeout resumes here safely.
 */
async function startPayment(store: CheckoutStore, row: CheckoutRow): Promise<CheckoutResult> {
  const env = store.env;
  const snapshot = JSON.parse(row.snapshot) as CheckoutSnapshot;
  const promotionIds = JSON.parse(row.promotion_ids) as string[];
  let held: Awaited<ReturnType<typeof holdPromotionUses>>;
  try {
    held = await holdPromotionUses(env, { checkoutId: row.id, email: snapshot.email, promotionIds });
  } catch (error) {
    const outage = databaseOutage(error);
    if (outage) return awaitResume(store, row, outage);
    throw error;
  }
  if (!held.ok) {
    await abandon(store, row, "failed", {
      code: "promotion_unavailable",
      message: "A promotion code ran out.",
    });
    const code =
      snapshot.promotions.find((promotion) => promotion.promotion_id === held.promotionId)?.code ?? null;
    return refuse(
      "promotion_unavailable",
      held.reason === "customer_limit_reached"
        ? `${code} has already been used by this customer.`
        : `${code} has reached its usage limit.`,
      { promotion_code: code, why: held.reason },
    );
  }
  let session: PaymentSession;
  try {
    // The checkout's index row names its payment, committed with it (see indexCheckout).
    const record = (paymentId: string) =>
      checkoutIndexStatement(env, {
        id: row.id,
        cartId: snapshot.cart_id,
        createdAt: row.created_at,
        paymentId,
      });
    session = await paymentProviderFor(env).createPayment(
      {
        checkoutId: row.id,
        cartId: snapshot.cart_id,
        amount: { amount: snapshot.total, currency: snapshot.currency },
        email: snapshot.email,
        idempotencyKey: paymentIdempotencyKey(row.id, "create"),
      },
      record,
    );
  } catch (error) {
    const outage = isProviderUnavailable(error) ? error : databaseOutage(error);
    if (outage) return awaitResume(store, row, outage);
    log("error", "checkout_payment_create_failed", { checkout_id: row.id, ...describeError(error) });
    await abandon(store, row, "failed", {
      code: "payment_provider_unavailable",
      message: "The payment could not be started.",
    });
    if (error instanceof PaymentProviderError && error.code === "not_configured") {
      return refuse("payment_provider_not_configured", "Payments are not configured on this shop.");
    }
    return refuse("payment_provider_unavailable", "The payment provider refused to start the payment.");
  }
  // The payment exists: the full window applies again (a resume had shortened it).
  store.updateCheckout(row.id, {
    status: session.status === "requires_action" ? "requires_action" : "awaiting_payment",
    provider: session.provider,
    payment_id: session.payment_id,
    client_secret: session.client_secret,
    next_action: session.next_action ? JSON.stringify(session.next_action) : null,
    expires_at: row.created_at + PAYMENT_WINDOW_MS,
  });
  await store.scheduleAlarm();
  // A provider that answers synchronously (or a replay after success) is settled now.
  await applySession(store, store.requireCheckout(row.id), session);
  return { ok: true, checkout: checkoutView(store, store.requireCheckout(row.id)), created: true };
}

/**
 * The payment could not be started because the provider (timeout, outage, open circuit)
 * or D1 is unavailable. The checkout stays `pending` with its holds, so a retry with the
 * same Idempotency-Key resumes it and asks the provider again under the same derived
 * provider key: at most one payment exists, however many retries. Its deadline shrinks to
 * the resume window, after which the alarm releases stock and promotion uses.
 */
async function awaitResume(
  store: CheckoutStore,
  row: CheckoutRow,
  error: DatabaseUnavailableError | PaymentProviderError,
): Promise<CheckoutResult> {
  const now = Date.now();
  store.updateCheckout(row.id, {
    expires_at: Math.min(row.created_at + PAYMENT_WINDOW_MS, now + PAYMENT_RESUME_WINDOW_MS),
    updated_at: now,
  });
  await store.scheduleAlarm();
  // Recorded without a payment (best effort: D1 may be what failed), so its status route
  // answers and the sweeper watches it until the shopper resumes or its window closes.
  await indexCheckout(store.env, {
    id: row.id,
    cartId: store.requireCart().id,
    createdAt: row.created_at,
    paymentId: null,
  }).catch((indexError: unknown) =>
    log("warn", "checkout_index_deferred", { checkout_id: row.id, ...describeError(indexError) }),
  );
  log("warn", "checkout_payment_deferred", { checkout_id: row.id, ...describeError(error) });
  if (error instanceof DatabaseUnavailableError) {
    return databaseDown(
      error,
      "The database is temporarily unavailable; retry with the same Idempotency-Key.",
      {
        checkout_id: row.id,
      },
    );
  }
  return refuse(
    "payment_provider_unavailable",
    "The payment provider did not answer; retry with the same Idempotency-Key.",
    { checkout_id: row.id, retry_after: error.retryAfterSeconds ?? 5 },
  );
}
