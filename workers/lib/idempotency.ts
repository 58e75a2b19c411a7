import { ApiError } from "./problem";

/**
 * 422 `idempotency_key_reused`: an `Idempotency-Key` came back with a different request than
 * the one it was first used for. Answering with the first result would tell the client its
 * second request succeeded; Stripe refuses such reuse the same way.
 */
export const idempotencyKeyReused = (detail = "This Idempotency-Key was used for a different request.") =>
  new ApiError(422, "idempotency_key_reused", "Idempotency-Key reused", {
    detail: `${detail} Use a fresh key for a new request.`,
  });
