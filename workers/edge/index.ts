import { createApp } from "./app";

export { CartObject } from "../../durable-objects/cart";
export { InventoryObject } from "../../durable-objects/inventory";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
