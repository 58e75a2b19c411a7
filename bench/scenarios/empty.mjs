import { defineScenario } from "../lib/scenario.mjs";

// The runtime's ceiling: the same worker and middleware with no work. Every other
// scenario is reported as a ratio to it, measured in the same run.
export default defineScenario({
  name: "empty",
  description: "GET /__ping: runtime + middleware only",
  // 50 connections, like the catalog scenarios and the storm's crowd it is the ceiling for.
  connections: 50,
  requests: () => () => ({ path: "/__ping" }),
});
