import { CATALOG_EVENTS_QUEUE, handleCatalogEvents } from "../catalog/consumer";
import { recordDeadLetters } from "../events/dead-letters";
import { handleInventoryEvents, INVENTORY_EVENTS_QUEUE } from "../inventory/consumer";
import { log } from "../lib/logging";

type QueueHandler = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

/** Which consumer handles which queue (the names in wrangler.toml's `[[queues.consumers]]`). */
const CONSUMERS: Record<string, QueueHandler> = {
  "popcart-dead-letters": recordDeadLetters,
  [CATALOG_EVENTS_QUEUE]: handleCatalogEvents,
  [INVENTORY_EVENTS_QUEUE]: handleInventoryEvents,
};

/** The edge worker's `queue` handler: dispatches a batch to its queue's consumer. */
export async function dispatchQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const consumer = CONSUMERS[batch.queue];
  if (!consumer) {
    log("error", "queue_without_consumer", { queue: batch.queue, count: batch.messages.length });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  await consumer(batch, env, ctx);
}
