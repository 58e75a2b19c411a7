import { resilientEnv } from "../lib/resilient-env";
import { createFulfilmentConsumer } from "./consumer";

const consumeOrderEvents = createFulfilmentConsumer();

/** The fulfilment worker: order events in, warehouse hand-offs and notifications out. */
export default {
  async queue(batch, env) {
    // D1 calls get a deadline and a circuit breaker, as in the edge worker.
    await consumeOrderEvents(batch, resilientEnv(env));
  },
  async fetch() {
    return Response.json({ status: "ok", worker: "popcart-fulfilment" });
  },
} satisfies ExportedHandler<FulfilmentEnv>;
