import { z } from "@hono/zod-openapi";

/** RFC 9457 problem document, as published in the OpenAPI document. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z
      .string()
      .openapi({ description: "Stable machine-readable error code", example: "validation_failed" }),
    instance: z.string().optional(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .openapi("Problem");

const problemContent = { "application/problem+json": { schema: ProblemSchema } } as const;

const STATUS_TEXT: Record<number, string> = {
  400: "Malformed request",
  401: "Missing or invalid bearer token",
  403: "Token lacks the required scope",
  404: "Not found",
  409: "Conflict with the current state",
  412: "Precondition failed",
  413: "Body too large",
  415: "Unsupported media type",
  422: "Validation failed",
  429: "Rate limited",
  503: "Temporarily unavailable",
};

/** OpenAPI `responses` entries for the problem statuses a route can answer. */
export function problemResponses<const S extends readonly number[]>(...statuses: S) {
  const out: Record<string, { description: string; content: typeof problemContent }> = {};
  for (const status of statuses) {
    out[String(status)] = { description: STATUS_TEXT[status] ?? "Error", content: problemContent };
  }
  return out as { [K in S[number] as `${K}`]: { description: string; content: typeof problemContent } };
}

/**
 * `schema | null` for a schema registered as a named OpenAPI component (`Money`, `Address` …).
 * zod-to-openapi renders `Named.nullable()` by making the shared component itself nullable when
 * it meets that use first, so every `Money` in the document turned nullable; a union leaves the
 * component alone and renders `anyOf: [{ $ref }, { type: "null" }]`.
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

/** `?cursor=…&limit=…` for every paginated list. */
export const PaginationQuery = z.object({
  cursor: z.string().max(512).optional().openapi({ description: "Opaque cursor from `next_cursor`" }),
  limit: z.coerce.number().int().min(1).max(100).default(24).openapi({ description: "Page size (1–100)" }),
});

/** Opaque, URL-safe cursors: base64url JSON, so clients cannot depend on their shape. */
export function encodeCursor(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Decodes a cursor against `schema`; returns null when it is garbage (the caller answers 422). */
export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T | null {
  try {
    const padded = cursor.replaceAll("-", "+").replaceAll("_", "/");
    const binary = atob(padded + "=".repeat((4 - (padded.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
