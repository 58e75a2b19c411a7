import { deadLetterMessage, RetryLater, retryOrDeadLetter } from "../events/consumer";
import { judgeEventVersion, NEWER_EVENT_RETRY_SECONDS } from "../events/versions";
import { syncSearchAvailability } from "../search/indexer";
import { type InventoryLevelEvent, InventoryLevelEventSchema } from "./events";
import { applyLevelEvents, getAvailability } from "./service";

/** The queue INVENTORY_EVENTS sends to (wrangler.toml). */
export const INVENTORY_EVENTS_QUEUE = "popcart-inventory-events";

const SOURCE = { queue: "INVENTORY_EVENTS", consumer: "inventory-levels" } as const;
const RETRY_POLICY = { maxAttempts: 5, baseDelaySeconds: 10 };

/**
 * Consumes INVENTORY_EVENTS into D1's `inventory_levels` (versioned upserts, so duplicates and
 * replays are harmless). A malformed message can never succeed, so it is dead-lettered with the
 * reason and acknowledged; a level event from a newer version is retried for a newer consumer;
 * a D1 failure retries the batch (then the platform's DLQ).
 */
export async function handleInventoryEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid: InventoryLevelEvent[] = [];
  const applied: Message<unknown>[] = [];
  for (const message of batch.messages) {
    const verdict = judgeEventVersion(message.body, ["inventory.level"]);
    if (verdict.action === "retry") {
      const later = new RetryLater(verdict.reason, NEWER_EVENT_RETRY_SECONDS);
      await retryOrDeadLetter(env, SOURCE, message, later, RETRY_POLICY);
      continue;
    }
    const parsed = InventoryLevelEventSchema.safeParse(message.body);
    if (verdict.action === "parse" && parsed.success) {
      valid.push(parsed.data);
      applied.push(message);
      continue;
    }
    const reason =
      verdict.action === "dead_letter"
        ? verdict.reason
        : `invalid event: ${parsed.error?.issues[0]?.message ?? "schema"}`;
    await deadLetterMessage(env, SOURCE, message, reason);
    message.ack();
  }
  await applyLevelEvents(env, valid);
  // Search ranks in-stock products first: refresh the flag from the same published snapshot.
  await syncSearchAvailability(env, [...new Set(valid.map((event) => event.sku))], getAvailability);
  for (const message of applied) message.ack();
}
