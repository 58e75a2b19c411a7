import { defineScenario } from "../lib/scenario.mjs";
import { stormScenario } from "../lib/storm.mjs";

export default defineScenario(
  stormScenario({
    name: "storm",
    description:
      "N shoppers at once for S units, three requests each: create the whole cart, check out, confirm",
    path: "short",
  }),
);
