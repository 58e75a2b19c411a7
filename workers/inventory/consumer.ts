import { log } from "../lib/logging";
import { InventoryLevelEventSchema } from "./events";
import { applyLevelEvents } from "./service";

/** The queue INVENTORY_EVENTS sends to (wrangler.toml). */
export const INVENTORY_EVENTS_QUEUE = "popcart-inventory-events";

/**
 * Consumes INVENTORY_EVENTS into D1's `inventory_levels`. A malformed message can never
 * succeed, so it is logged and acknowledged; a D1 failure retries the batch (then the DLQ).
 */
export async function handleInventoryEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid = [];
  for (const message of batch.messages) {
    const parsed = InventoryLevelEventSchema.safeParse(message.body);
    if (parsed.success) valid.push(parsed.data);
    else
      log("warn", "inventory_event_malformed", {
        message_id: message.id,
        issues: parsed.error.issues.length,
      });
  }
  await applyLevelEvents(env, valid);
  batch.ackAll();
}
