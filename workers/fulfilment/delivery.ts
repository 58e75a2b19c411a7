import type { BatchItem } from "drizzle-orm/batch";
import { database } from "../../db/client";
import { webhookDeliveries } from "../../db/schema";
import { backoffSeconds, RetryLater } from "../events/consumer";
import {
  type CircuitBreakerSettings,
  CircuitOpenError,
  type CircuitStateChange,
  circuitBreaker,
} from "../lib/circuit-breaker";
import { newId } from "../lib/ids";
import { signPayload } from "./signature";

export interface DeliveryTarget {
  url: string;
  secret: string;
  /** Per-attempt timeout: a hung 3PL must not hold the consumer. */
  timeoutMs?: number;
  /** The 3PL's circuit: consecutive failed deliveries that open it, and its cool-down. */
  breaker?: CircuitBreakerSettings;
  onStateChange?: (change: CircuitStateChange) => void;
  fetchFn?: typeof fetch;
}

export interface DeliveryInput {
  orderId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  payload: unknown;
}

export class DeliveryFailed extends Error {
  constructor(
    message: string,
    readonly statusCode: number | null,
  ) {
    super(message);
    this.name = "DeliveryFailed";
  }
}

const DEFAULT_BREAKER: CircuitBreakerSettings = { failureThreshold: 5, cooldownMs: 60_000 };

/** Answers that say the receiver is down or overloaded (others, like a 400, say it is up). */
const isOutageStatus = (status: number) => status >= 500 || status === 429 || status === 408;

/** One circuit per 3PL host, so a failing warehouse never blocks another one. */
export const deliveryCircuitName = (url: string) => `fulfilment:${new URL(url).host}`;

/**
 * POSTs a signed event to the warehouse/3PL and logs the attempt. The event id goes in
 * `Idempotency-Key` so a receiver can drop the duplicates at-least-once delivery implies.
 * Throws `DeliveryFailed` on a non-2xx or network error; the queue retries with backoff.
 *
 * Deliveries go through the 3PL's circuit breaker: after repeated outages (5xx, 429, 408,
 * network errors, timeouts) the circuit opens and deliveries are not attempted until its
 * cool-down has passed; the attempt is logged as not sent and `RetryLater` puts the event
 * back on the queue for at least that long, so a struggling 3PL is not hammered and no event
 * is lost (after the consumer's last attempt it is dead-lettered for replay, as any failure).
 */
export async function deliverWebhook(
  db: D1Database,
  target: DeliveryTarget,
  input: DeliveryInput,
  /** Writes that a successful delivery means, committed with its record in one batch. */
  onDelivered: readonly BatchItem<"sqlite">[] = [],
): Promise<unknown[]> {
  const body = JSON.stringify(input.payload);
  const started = Date.now();
  const breaker = circuitBreaker(deliveryCircuitName(target.url), target.breaker ?? DEFAULT_BREAKER);
  let statusCode: number | null = null;
  let error: string | null = null;
  let circuitOpen: CircuitOpenError | null = null;
  try {
    const response = await breaker.execute(
      async () => {
        const answer = await (target.fetchFn ?? fetch)(target.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "popcart-signature": await signPayload(target.secret, body),
            "idempotency-key": input.eventId,
            "popcart-event-type": input.eventType,
          },
          body,
          signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
        });
        await answer.body?.cancel();
        if (isOutageStatus(answer.status)) {
          throw new DeliveryFailed(`receiver answered ${answer.status}`, answer.status);
        }
        return answer;
      },
      target.onStateChange ? { onStateChange: target.onStateChange } : {},
    );
    statusCode = response.status;
    if (!response.ok) error = `receiver answered ${response.status}`;
  } catch (caught) {
    if (caught instanceof CircuitOpenError) circuitOpen = caught;
    if (caught instanceof DeliveryFailed) statusCode = caught.statusCode;
    error =
      caught instanceof CircuitOpenError
        ? `not sent: ${caught.message}`
        : caught instanceof Error
          ? caught.message
          : String(caught);
  }
  const client = database(db);
  const record = client.insert(webhookDeliveries).values({
    id: newId("dlv"),
    orderId: input.orderId,
    eventId: input.eventId,
    eventType: input.eventType,
    url: target.url,
    attempt: input.attempt,
    statusCode,
    ok: error === null,
    error,
    durationMs: Date.now() - started,
    createdAt: started,
  });
  const [, ...results] = await client.batch([record, ...(error === null ? onDelivered : [])]);
  if (circuitOpen) {
    throw new RetryLater(
      error ?? circuitOpen.message,
      Math.max(circuitOpen.retryAfterSeconds, backoffSeconds(input.attempt, 2)),
    );
  }
  if (error !== null) throw new DeliveryFailed(error, statusCode);
  return results;
}
