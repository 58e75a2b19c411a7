import { defineScenario } from "../lib/scenario.mjs";
import { stormScenario } from "../lib/storm.mjs";

export default defineScenario(
  stormScenario({
    name: "storm-granular",
    description:
      "The storm's crowd through the six granular routes: create, line, address, method, check out, confirm",
    path: "granular",
  }),
);
