import { createFulfilmentConsumer } from "./consumer";

const consumeOrderEvents = createFulfilmentConsumer();

/** The fulfilment worker: order events in, warehouse hand-offs and notifications out. */
export default {
  async queue(batch, env) {
    await consumeOrderEvents(batch, env);
  },
  async fetch() {
    return Response.json({ status: "ok", worker: "popcart-fulfilment" });
  },
} satisfies ExportedHandler<FulfilmentEnv>;
