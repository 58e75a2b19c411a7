/**
 * Cloudflare Queues limits (https://developers.cloudflare.com/queues/platform/limits/): at
 * most 100 messages and 256 KB per `sendBatch`, 128 KB per message. The local simulator does
 * not enforce them, so the outbox does: a batch over a limit is refused whole in production,
 * and an outbox that keeps re-sending it first would never send anything behind it.
 */
export const QUEUE_LIMITS = {
  messagesPerBatch: 100,
  batchBytes: 256 * 1024,
  messageBytes: 128 * 1024,
  /** Room kept per message for what the platform adds to the body (content type, framing). */
  overheadBytes: 256,
} as const;

const encoder = new TextEncoder();

export interface Sized<T> {
  item: T;
  bytes: number;
}

/** Why an event can never be sent; it is dead-lettered with this reason. */
export type Unsendable<T> = { item: T; reason: string };

/**
 * Splits `items` (in order) into batches within the count and byte limits; items that can never
 * be sent (too large, or a payload that is not JSON) come back separately with the reason.
 */
export function planBatches<T>(
  items: readonly T[],
  payloadOf: (item: T) => string,
  limits: typeof QUEUE_LIMITS = QUEUE_LIMITS,
): { batches: Sized<T>[][]; unsendable: Unsendable<T>[] } {
  const batches: Sized<T>[][] = [];
  const unsendable: Unsendable<T>[] = [];
  let current: Sized<T>[] = [];
  let currentBytes = 0;
  for (const item of items) {
    const payload = payloadOf(item);
    const bytes = encoder.encode(payload).byteLength + limits.overheadBytes;
    if (bytes > limits.messageBytes) {
      unsendable.push({
        item,
        reason: `message of ${bytes} bytes exceeds the queue's ${limits.messageBytes}-byte message limit`,
      });
      continue;
    }
    if (!isJson(payload)) {
      unsendable.push({ item, reason: "payload is not valid JSON" });
      continue;
    }
    if (current.length >= limits.messagesPerBatch || currentBytes + bytes > limits.batchBytes) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push({ item, bytes });
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return { batches, unsendable };
}

function isJson(payload: string): boolean {
  try {
    JSON.parse(payload);
    return true;
  } catch {
    return false;
  }
}
