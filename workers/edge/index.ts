import { handleInventoryEvents } from "../inventory/consumer";
import { createApp } from "./app";

export { CartObject } from "../../durable-objects/cart";
export { InventoryObject } from "../../durable-objects/inventory";

const app = createApp();

/** Queue name → consumer. Dead-letter queues are drained by operators, not here. */
const consumers: Record<string, (batch: MessageBatch<unknown>, env: Env) => Promise<void>> = {
  "popcart-inventory-events": handleInventoryEvents,
};

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    const consumer = consumers[batch.queue];
    if (!consumer) throw new Error(`no consumer for queue ${batch.queue}`);
    await consumer(batch, env);
  },
} satisfies ExportedHandler<Env>;
