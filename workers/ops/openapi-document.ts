import type { OpenAPIHono } from "@hono/zod-openapi";
import { isRateLimited } from "../edge/rate-limits";
import { DEGRADED_HEADER } from "../lib/degraded";
import type { AppEnv } from "../lib/env";
import { VERSION_KEY_RESPONSE_HEADER } from "../lib/version-affinity";
import { VERSION_HEADER, VERSION_TAG_HEADER } from "../lib/version-headers";

export const OPENAPI_INFO = {
  title: "Popcart API",
  version: "1.0.0",
  description:
    "Edge-first commerce runtime. Money is integer minor units plus an ISO 4217 currency; errors are application/problem+json with a stable `code`. " +
    "Every response carries `x-request-id`, `x-popcart-version` (and `x-popcart-version-tag`) and `Server-Timing`; " +
    "cart and checkout responses carry `x-popcart-version-key`, to send back as `Cloudflare-Workers-Version-Key`. " +
    "Rate-limited requests answer 429 `rate_limited` with `Retry-After`. " +
    "While D1 is unavailable, catalog reads are served from their last good copy with `Popcart-Degraded: d1`, " +
    "and what needs D1 answers 503 `database_unavailable` with `Retry-After` instead of waiting.",
  // The repository carries no licence file and package.json is private: nothing is granted, so
  // the document says so (an SPDX `LicenseRef-`) rather than naming an open licence or a made-up
  // contact address.
  license: { name: "UNLICENSED: all rights reserved", identifier: "LicenseRef-Proprietary" },
};

type Json = Record<string, unknown>;
interface Operation extends Json {
  operationId?: string;
  security?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, { description?: string; headers?: Json; content?: Json }>;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;
const header = (description: string, schema: Json = { type: "string" }) => ({ description, schema });

/** Response headers shared by every operation, as reusable components. */
const HEADERS = {
  RequestId: header("Correlates this response with the Worker's logs; echoed from the request when sent."),
  ServerTiming: header("Time spent per dependency (D1, KV, Durable Objects, the payment provider)."),
  Version: header("Id of the Worker version that answered."),
  VersionTag: header("Tag of the Worker version that answered, when it has one."),
  VersionKey: header(
    "Send back as `Cloudflare-Workers-Version-Key` so this cart stays on one Worker version during a rollout.",
  ),
  RetryAfter: header("Seconds to wait before retrying.", { type: "integer", minimum: 0 }),
  Degraded: header(
    "Set when the answer is a last good copy because a dependency is unavailable (e.g. `d1`).",
  ),
};
const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

/** `GET /api/carts/{id}/lines` → `getApiCartsIdLines`: stable, unique, derived from the route. */
export function operationIdFor(method: string, path: string): string {
  const words = path
    .split("/")
    .filter(Boolean)
    .map((segment) => segment.replace(/[{}]/g, ""))
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return [method, ...words].map((w, i) => (i === 0 ? w : w[0]?.toUpperCase() + w.slice(1))).join("");
}

/**
 * Completes the document the routes generate with what applies to all of them: an operationId
 * per operation, `security: []` on public ones, the statuses middleware can answer with (413 and
 * 415 for bodies, 429 where a rate limit applies) and the response headers every answer carries.
 */
export function finishDocument<T extends { paths?: unknown; components?: unknown }>(doc: T): T {
  const paths = (doc.paths ?? {}) as Record<string, Partial<Record<string, Operation>>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.operationId ??= operationIdFor(method, path);
      op.security ??= [];
      op.responses ??= {};
      const responses = op.responses;
      if (op.requestBody) {
        responses["413"] ??= problemResponse("Body too large");
        responses["415"] ??= problemResponse("Unsupported media type: send application/json");
      }
      if (isRateLimited(method, path)) responses["429"] ??= problemResponse("Rate limited");
      const affinity = path.startsWith("/api/carts") || path.startsWith("/api/checkouts");
      for (const [status, response] of Object.entries(responses)) {
        const headers: Json = {
          "x-request-id": ref("RequestId"),
          "Server-Timing": ref("ServerTiming"),
          [VERSION_HEADER]: ref("Version"),
          [VERSION_TAG_HEADER]: ref("VersionTag"),
          ...(affinity ? { [VERSION_KEY_RESPONSE_HEADER]: ref("VersionKey") } : {}),
          ...(status === "429" || status === "503" ? { "Retry-After": ref("RetryAfter") } : {}),
          ...(status === "200" && method === "get" ? { [DEGRADED_HEADER]: ref("Degraded") } : {}),
        };
        response.headers = { ...headers, ...response.headers };
      }
    }
  }
  const components = (doc.components ?? {}) as Json;
  components.headers = { ...HEADERS, ...(components.headers as Json | undefined) };
  (doc as Json).components = components;
  return doc;
}

/** The OpenAPI 3.1 document of `app`, served at /openapi.json and committed as client/openapi.json. */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  return finishDocument(
    app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: OPENAPI_INFO,
      servers: [{ url: "/", description: "The Worker serving this document" }],
    }),
  );
}
