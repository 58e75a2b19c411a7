import { database } from "../../db/client";
import { webhookDeliveries } from "../../db/schema";
import { newId } from "../lib/ids";
import { signPayload } from "./signature";

export interface DeliveryTarget {
  url: string;
  secret: string;
  /** Per-attempt timeout: a hung 3PL must not hold the consumer. */
  timeoutMs?: number;
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

/**
 * POSTs a signed event to the warehouse/3PL and logs the attempt. The event id goes in
 * `Idempotency-Key` so a receiver can drop the duplicates at-least-once delivery implies.
 * Throws `DeliveryFailed` on a non-2xx or network error; the queue retries with backoff.
 */
export async function deliverWebhook(
  db: D1Database,
  target: DeliveryTarget,
  input: DeliveryInput,
): Promise<void> {
  const body = JSON.stringify(input.payload);
  const started = Date.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const response = await (target.fetchFn ?? fetch)(target.url, {
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
    statusCode = response.status;
    if (!response.ok) error = `receiver answered ${response.status}`;
    await response.body?.cancel();
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  await database(db)
    .insert(webhookDeliveries)
    .values({
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
  if (error !== null) throw new DeliveryFailed(error, statusCode);
}
