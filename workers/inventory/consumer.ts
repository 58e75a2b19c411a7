import { deadLetterMessage } from "../events/consumer";
import { syncSearchAvailability } from "../search/indexer";
import { InventoryLevelEventSchema } from "./events";
import { applyLevelEvents, getAvailability } from "./service";

/** The queue INVENTORY_EVENTS sends to (wrangler.toml). */
export const INVENTORY_EVENTS_QUEUE = "popcart-inventory-events";

/**
 * Consumes INVENTORY_EVENTS into D1's `inventory_levels` (versioned upserts, so duplicates and
 * replays are harmless). A malformed message can never succeed, so it is dead-lettered with the
 * reason and acknowledged; a D1 failure retries the batch (then the platform's DLQ).
 */
export async function handleInventoryEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid = [];
  for (const message of batch.messages) {
    const parsed = InventoryLevelEventSchema.safeParse(message.body);
    if (parsed.success) valid.push(parsed.data);
    else {
      await deadLetterMessage(
        env,
        { queue: "INVENTORY_EVENTS", consumer: "inventory-levels" },
        message,
        `invalid event: ${parsed.error.issues[0]?.message ?? "schema"}`,
      );
      message.ack();
    }
  }
  await applyLevelEvents(env, valid);
  // Search ranks in-stock products first: refresh the flag from the same published snapshot.
  await syncSearchAvailability(env, [...new Set(valid.map((event) => event.sku))], getAvailability);
  batch.ackAll();
}
