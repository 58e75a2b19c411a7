/** How long a shopper has to pay once a checkout starts. */
export const PAYMENT_WINDOW_MS = 15 * 60 * 1000;
/**
 * Reservations outlive the payment window by this much, so the window's alarm can still
 * cancel the payment and release the stock itself before the holds lapse on their own.
 */
export const RESERVATION_GRACE_SECONDS = 5 * 60;
/**
 * A checkout whose payment could not be started (provider or D1 unavailable) keeps its holds
 * this long for a retry with the same Idempotency-Key; then its alarm gives them back. Well
 * under the grace above, so a resumed checkout's holds still outlive its payment window.
 */
export const PAYMENT_RESUME_WINDOW_MS = 2 * 60 * 1000;
/**
 * How long a checkout's own holds last. The holds are keyed by checkout and SKU with this TTL as
 * part of their request, so a retried or crash-cleaning call must ask with the same value.
 */
export const CHECKOUT_HOLD_TTL_SECONDS = PAYMENT_WINDOW_MS / 1000 + RESERVATION_GRACE_SECONDS;
/** How often a payment still processing at the end of its window is asked about again. */
export const PROCESSING_RECHECK_MS = 10 * 60 * 1000;
/** When the payment provider or D1 is down at the end of a payment window, try again this much later. */
export const EXPIRY_RETRY_MS = 30 * 1000;
/**
 * A completion (payment succeeded, order owed) arms the alarm this far ahead before it commits
 * anything: if the run dies midway, the alarm finishes it. A completion that ends normally
 * moves the alarm back to the cart's own deadline.
 */
export const COMPLETION_RETRY_MS = 5 * 1000;
