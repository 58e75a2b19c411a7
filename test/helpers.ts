import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../workers/edge/index";
import { PaymentProviderError } from "../workers/payments/provider";

/** Sends a request through the edge worker's real `fetch` handler (all middleware included). */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://popcart.test${path}`, init));
}

/**
 * A request through the edge worker's real entry point with `overrides` in its env (a secret
 * or binding the platform would hand it), without touching the env other tests share. Waits
 * for its `waitUntil` work.
 */
export async function callWithEnv(
  path: string,
  init: RequestInit = {},
  overrides: Partial<Env> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  // An incoming request, as the runtime would build it (`cf` properties are not needed here).
  const request = new Request(`http://popcart.test${path}`, init) as Request<
    unknown,
    IncomingRequestCfProperties
  >;
  const res = await worker.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** JSON request helper: sets the content type and serialises the body. */
export function callJson(path: string, method: string, body: unknown, headers: Record<string, string> = {}) {
  return call(path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A random client address (`CF-Connecting-IP`), so tests never share a rate-limit key. */
export const randomIp = () =>
  `10.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

export const ADMIN = { authorization: "Bearer test-admin-token" } as const;

/** Asserts a problem+json response and returns its body. */
export async function expectProblem(res: Response, status: number, code: string) {
  const body = (await res.json()) as { code: string; status: number; errors?: { path: string }[] };
  if (res.status !== status || body.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(body)}`);
  }
  if (!res.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new Error(`expected application/problem+json, got ${res.headers.get("content-type")}`);
  }
  return body;
}

/** Asserts a response's status (200 by default) and returns its JSON body. */
export async function expectJson<T>(res: Response, status = 200): Promise<T> {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The `dur` (ms) of metric `name` in a `Server-Timing` header; throws when it is absent. */
export function timingOf(header: string | null, name: string): number {
  for (const [, metric, dur] of (header ?? "").matchAll(/(?:^|, )([\w-]+);dur=(\d+(?:\.\d+)?)/g)) {
    if (metric === name) return Number(dur);
  }
  throw new Error(`no ${name} in Server-Timing: ${header}`);
}

/** One `message.retry()` call a queue consumer made. */
export interface RecordedRetry {
  msgId: string;
  delaySeconds: number | undefined;
}

/**
 * Records every `retry()` a consumer makes on `batch`, with its delay (`getQueueResult`
 * reports which messages were retried, but not how long they were asked to wait).
 */
export function recordRetries(batch: MessageBatch<unknown>): RecordedRetry[] {
  const retries: RecordedRetry[] = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    Object.defineProperty(message, "retry", {
      value: (options?: QueueRetryOptions) => {
        retries.push({ msgId: message.id, delaySeconds: options?.delaySeconds });
        retry(options);
      },
    });
  }
  return retries;
}

/** The `PaymentProviderError` a provider call rejects with; fails the test if it resolves or throws anything else. */
export async function providerError(promise: Promise<unknown>): Promise<PaymentProviderError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof PaymentProviderError))
    throw new Error(`expected PaymentProviderError, got ${error}`);
  return error;
}

/**
 * Local rate limiters count in fixed windows aligned to the wall clock. Rather than sleeping
 * until a fresh window starts, runs `burst` and, when a window boundary may have passed while
 * it ran, waits for the next window to begin and runs it again (`attempt` lets it pick a fresh
 * client); only a burst that stayed inside one window is returned, so the caller can assert
 * exact counts. (Retrying at once is not enough: a fast burst that started just before a
 * boundary is retried just before it again.)
 */
export async function inOneWindow<T>(periodMs: number, burst: (attempt: number) => Promise<T>): Promise<T> {
  // The limiter reads its own clock: allow for a little skew either side.
  const SKEW_MS = 250;
  for (let attempt = 0; attempt < 3; attempt++) {
    const window = Math.floor((Date.now() - SKEW_MS) / periodMs);
    const result = await burst(attempt);
    if (Math.floor((Date.now() + SKEW_MS) / periodMs) === window) return result;
    const nextWindowAt = (Math.floor(Date.now() / periodMs) + 1) * periodMs + SKEW_MS;
    if (nextWindowAt - Date.now() < periodMs / 2) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextWindowAt - Date.now())));
    }
  }
  throw new Error("three bursts in a row each crossed a rate-limit window boundary");
}

/**
 * Polls `probe` (every 50 ms) until `done` accepts its value, by default any value but null
 * or undefined, and returns it; throws with the last value when that takes over `timeoutMs`.
 * For what the code under test finishes in the background (queues, alarms, `waitUntil`).
 */
export function eventually<T>(probe: () => Promise<T | null | undefined>, timeoutMs?: number): Promise<T>;
export function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs?: number,
): Promise<T>;
export async function eventually<T>(
  probe: () => Promise<T>,
  doneOrTimeout?: ((value: T) => boolean) | number,
  timeoutMs = 5_000,
): Promise<T> {
  const done =
    typeof doneOrTimeout === "function" ? doneOrTimeout : (value: T) => value !== null && value !== undefined;
  const deadline = Date.now() + (typeof doneOrTimeout === "number" ? doneOrTimeout : timeoutMs);
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in time; last value: ${JSON.stringify(value)}`);
    await scheduler.wait(50);
  }
}
