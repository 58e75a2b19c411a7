import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import type { AppEnv } from "./env";
import { problems } from "./problem";

/** Default cap on request bodies: commerce payloads are small; anything larger is abuse. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Rejects oversized bodies with a `payload_too_large` problem before anything parses them.
 * A request that declares its length (and is not chunked) is judged by the header alone,
 * before Hono's middleware touches `request.body`: profiling the storm showed materialising
 * the body stream costing as much as the rest of a small request's middleware. Streamed
 * bodies are still counted as they arrive by Hono's `bodyLimit`.
 */
export const bodyLimit = (maxSize = DEFAULT_BODY_LIMIT): MiddlewareHandler<AppEnv> => {
  const tooLarge = () => {
    throw problems.payloadTooLarge(maxSize);
  };
  const streamed = honoBodyLimit({ maxSize, onError: tooLarge });
  return async function bodyLimit(c, next) {
    const declared = c.req.header("content-length");
    if (declared === undefined || c.req.header("transfer-encoding") !== undefined) return streamed(c, next);
    if (Number.parseInt(declared, 10) > maxSize) tooLarge();
    await next();
  };
};
