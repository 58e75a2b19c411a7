import { exports } from "cloudflare:workers";
import { PaymentProviderError } from "../workers/payments/provider";

/** Sends a request through the edge worker's real `fetch` handler (all middleware included). */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://popcart.test${path}`, init));
}

/** JSON request helper: sets the content type and serialises the body. */
export function callJson(path: string, method: string, body: unknown, headers: Record<string, string> = {}) {
  return call(path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/**
 * Local rate-limiter windows are aligned to the wall clock: waits for the next window when
 * less than `needMs` of the current `periodMs` window is left, so a burst fits in one.
 */
export async function awaitFreshWindow(periodMs: number, needMs: number): Promise<void> {
  const left = periodMs - (Date.now() % periodMs);
  if (left < needMs) await scheduler.wait(left + 50);
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
