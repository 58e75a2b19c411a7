import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** One failing input field, as reported in a `validation_failed` problem. */
export interface FieldError {
  /** Dotted path into the input, e.g. `body.variants.0.sku` or `query.limit`. */
  path: string;
  message: string;
}

/** RFC 9457 problem details, plus Popcart's stable machine `code`. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface ApiErrorOptions {
  detail?: string;
  errors?: FieldError[];
  /** Extra members merged into the problem body (e.g. `line_id`, `available`). */
  extensions?: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
}

/**
 * A refusal that the client can act on. Thrown anywhere in a request; `problemHandler`
 * turns it into `application/problem+json`. Anything else thrown is a bug and becomes a 500.
 * An `HTTPException` that carries its response, so Hono (and any sub-app without our
 * `onError`) answers it as the same problem.
 */
export class ApiError extends HTTPException {
  override readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, code: string, title: string, options: ApiErrorOptions = {}) {
    super(status, { message: options.detail ?? title });
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  /** The problem as a response: its body, status and headers (and the request's id, when known). */
  override getResponse(instance?: string, requestId?: string): Response {
    const headers = new Headers({ "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" });
    for (const [name, value] of Object.entries(this.headers)) headers.set(name, value);
    if (requestId) headers.set("x-request-id", requestId);
    return new Response(JSON.stringify(this.toProblem(instance, requestId)), {
      status: this.status,
      headers,
    });
  }

  toProblem(instance?: string, requestId?: string): ProblemBody {
    // Extensions first: RFC 9457's own members (type, status …) can never be overwritten by one.
    return {
      ...this.extensions,
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      code: this.code,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...(instance !== undefined ? { instance } : {}),
      ...(requestId !== undefined ? { request_id: requestId } : {}),
      ...(this.errors !== undefined ? { errors: this.errors } : {}),
    };
  }
}

/** Problem type URIs are stable, dereferenceable-looking identifiers per code. */
export const problemType = (code: string): string =>
  `https://popcart.dev/problems/${code.replaceAll("_", "-")}`;

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Frequently used refusals, so codes and titles stay identical everywhere. */
export const problems = {
  notFound: (what: string, code = "not_found", detail?: string) =>
    new ApiError(404, code, `${what} not found`, detail === undefined ? {} : { detail }),
  validation: (errors: FieldError[], detail = "The request has invalid fields.") =>
    new ApiError(422, "validation_failed", "Validation failed", { detail, errors }),
  malformedJson: (detail = "The request body is not valid JSON.") =>
    new ApiError(400, "malformed_json", "Malformed JSON", { detail }),
  payloadTooLarge: (limit: number) =>
    new ApiError(413, "payload_too_large", "Payload too large", {
      detail: `The request body exceeds the ${limit}-byte limit.`,
    }),
  unauthorized: (detail = "A valid bearer token is required.") =>
    new ApiError(401, "unauthorized", "Unauthorized", {
      detail,
      headers: { "WWW-Authenticate": 'Bearer realm="popcart-admin"' },
    }),
  forbidden: (scope: string) =>
    new ApiError(403, "forbidden", "Forbidden", { detail: `This token lacks the '${scope}' scope.` }),
  conflict: (code: string, detail: string, extensions?: Record<string, unknown>) =>
    new ApiError(409, code, "Conflict", extensions === undefined ? { detail } : { detail, extensions }),
  unavailable: (code: string, detail: string, retryAfterSeconds = 5) =>
    new ApiError(503, code, "Service unavailable", {
      detail,
      headers: { "Retry-After": String(retryAfterSeconds) },
    }),
} as const;
