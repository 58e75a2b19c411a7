import { createApp } from "./app";
import { dispatchQueue } from "./queue";
import { runScheduled } from "./scheduled";

export { CartObject } from "../../durable-objects/cart";
export { InventoryObject } from "../../durable-objects/inventory";
export { WaitingRoomObject } from "../../durable-objects/waiting-room";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: dispatchQueue,
  scheduled: runScheduled,
} satisfies ExportedHandler<Env>;
