import { CATALOG_EVENTS_QUEUE, handleCatalogEvents } from "../catalog/consumer";
import { log } from "../lib/logging";
import { createApp } from "./app";

export { CartObject } from "../../durable-objects/cart";
export { InventoryObject } from "../../durable-objects/inventory";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    switch (batch.queue) {
      case CATALOG_EVENTS_QUEUE:
        return handleCatalogEvents(batch, env);
      default:
        // A queue bound without a consumer here is a deployment mistake: keep the messages.
        log("error", "queue_without_consumer", { queue: batch.queue, messages: batch.messages.length });
        batch.retryAll();
    }
  },
} satisfies ExportedHandler<Env>;
