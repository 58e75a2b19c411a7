import { resilientEnv } from "../lib/resilient-env";
import { createApp } from "./app";
import { dispatchQueue } from "./queue";
import { runScheduled } from "./scheduled";

export { CartObject } from "../../durable-objects/cart";
export { InventoryObject } from "../../durable-objects/inventory";
export { SearchReplicaObject } from "../../durable-objects/search-replica";
export { WaitingRoomObject } from "../../durable-objects/waiting-room";

const app = createApp();

// Every handler gets the env with its D1 binding guarded (deadline + circuit breaker).
export default {
  fetch: (request, env, ctx) => app.fetch(request, resilientEnv(env), ctx),
  queue: (batch, env, ctx) => dispatchQueue(batch, resilientEnv(env), ctx),
  scheduled: (controller, env) => runScheduled(controller, resilientEnv(env)),
} satisfies ExportedHandler<Env>;
