import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./env";
import { throwOnInvalid } from "./validation";

/**
 * A domain sub-app: routes declared with `createRoute` are validated by zod (failures throw
 * `validation_failed`) and appear in the OpenAPI document automatically.
 */
export const createRouter = () => new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid });
