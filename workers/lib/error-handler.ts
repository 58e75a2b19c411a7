import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { type DatabaseUnavailableError, databaseOutage } from "./d1-guard";
import type { AppEnv } from "./env";
import { describeError, log } from "./logging";
import { ApiError, problems } from "./problem";

/** Renders an `ApiError` as `application/problem+json` with its headers. */
export function problemResponse(error: ApiError, instance?: string, requestId?: string): Response {
  return error.getResponse(instance, requestId);
}

/**
 * Maps Hono's own exceptions onto stable problem codes, by status. Its validator answers 400
 * only for a body it cannot parse, which for a request that declared JSON is `malformed_json`.
 */
function fromHttpException(error: HTTPException, contentType: string | undefined): ApiError {
  if (error.status === 400 && contentType !== undefined && JSON_MEDIA_TYPE.test(contentType)) {
    return problems.malformedJson();
  }
  if (error.status === 413) return new ApiError(413, "payload_too_large", "Payload too large");
  if (error.status === 401) return problems.unauthorized(error.message || undefined);
  if (error.status === 415) {
    return new ApiError(415, "unsupported_media_type", "Unsupported media type", {
      detail: "Send the body as application/json.",
    });
  }
  return new ApiError(error.status, "http_error", error.message || "Request failed");
}

// Hono's validator parses a body as JSON exactly when its media type matches this.
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/** D1 is down or too slow (timeout, open circuit): fail fast and say when to come back. */
export function databaseUnavailable(error: DatabaseUnavailableError): ApiError {
  return problems.unavailable(
    "database_unavailable",
    "The database is temporarily unavailable; retry shortly.",
    error.retryAfterSeconds,
  );
}

/**
 * The single `app.onError`: refusals become their problem, a D1 outage a 503
 * `database_unavailable`; anything unexpected is logged with the request id and answered with
 * a generic 500 that leaks nothing.
 */
export const problemHandler: ErrorHandler<AppEnv> = (error, c) => {
  const requestId = c.get("requestId");
  const instance = new URL(c.req.url).pathname;
  if (error instanceof ApiError) return problemResponse(error, instance, requestId);
  if (error instanceof HTTPException) {
    return problemResponse(fromHttpException(error, c.req.header("content-type")), instance, requestId);
  }
  const outage = databaseOutage(error);
  if (outage) {
    log("warn", "database_unavailable", { request_id: requestId, path: instance, error: outage.message });
    return problemResponse(databaseUnavailable(outage), instance, requestId);
  }
  log("error", "unhandled_error", { request_id: requestId, path: instance, ...describeError(error) });
  const internal = new ApiError(500, "internal_error", "Internal server error", {
    detail: "Something went wrong on our side. Quote the request id if you contact support.",
  });
  return problemResponse(internal, instance, requestId);
};

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(
    problems.notFound(
      "Route",
      "route_not_found",
      `No route for ${c.req.method} ${new URL(c.req.url).pathname}`,
    ),
    new URL(c.req.url).pathname,
    c.get("requestId"),
  );
