import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import type { AppEnv } from "./env";
import { problems } from "./problem";

/** Default cap on request bodies: commerce payloads are small; anything larger is abuse. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** Rejects oversized bodies with a `payload_too_large` problem before anything parses them. */
export const bodyLimit = (maxSize = DEFAULT_BODY_LIMIT): MiddlewareHandler<AppEnv> =>
  honoBodyLimit({
    maxSize,
    onError: () => {
      throw problems.payloadTooLarge(maxSize);
    },
  });
