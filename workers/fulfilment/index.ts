import { resilientEnv } from "../lib/resilient-env";
import { createFulfilmentConsumer } from "./consumer";

const consumeOrderEvents = createFulfilmentConsumer();
let consumeThroughEdge: ReturnType<typeof createFulfilmentConsumer> | undefined;

/**
 * Locally (`npm run dev`, `npm run serve`) the 3PL is the edge worker's own receiver, reached
 * through the DEV_3PL service binding whatever port the edge listens on; production declares no
 * such binding and posts to FULFILMENT_WEBHOOK_URL over the internet.
 */
function consumerFor(env: FulfilmentEnv) {
  const edge = env.DEV_3PL;
  if (!edge) return consumeOrderEvents;
  consumeThroughEdge ??= createFulfilmentConsumer({ fetchFn: (input, init) => edge.fetch(input, init) });
  return consumeThroughEdge;
}

/** The fulfilment worker: order events in, warehouse hand-offs and notifications out. */
export default {
  async queue(batch, env) {
    // D1 calls get a deadline and a circuit breaker, as in the edge worker.
    await consumerFor(env)(batch, resilientEnv(env));
  },
  async fetch() {
    return Response.json({ status: "ok", worker: "popcart-fulfilment" });
  },
} satisfies ExportedHandler<FulfilmentEnv>;
