import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { setResponseHeader } from "./response-headers";
import { versionOf } from "./version";

export const VERSION_HEADER = "x-popcart-version";
export const VERSION_TAG_HEADER = "x-popcart-version-tag";

/**
 * Stamps every response with the Worker version that produced it (version metadata binding),
 * so a shopper's bug report or a release gate can tell which side of a gradual rollout
 * answered. The tag header is omitted for untagged versions.
 */
export const versionHeaders = (): MiddlewareHandler<AppEnv> =>
  async function versionHeaders(c, next) {
    await next();
    const { id, tag } = versionOf(c.env);
    setResponseHeader(c, VERSION_HEADER, id);
    if (tag) setResponseHeader(c, VERSION_TAG_HEADER, tag);
  };
