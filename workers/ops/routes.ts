import { createRoute } from "@hono/zod-openapi";
import { circuitSnapshot } from "../lib/circuit-breaker";
import { createRouter } from "../lib/router";
import { versionOf } from "../lib/version";
import { checkBindings } from "./health";
import { HealthSchema } from "./schemas";

const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["Operations"],
  summary: "Liveness, running version, binding checks and circuit breakers",
  responses: {
    200: { description: "All bindings answer", content: { "application/json": { schema: HealthSchema } } },
    503: {
      description: "A binding is failing (e.g. D1 down or its circuit open)",
      content: { "application/json": { schema: HealthSchema } },
    },
  },
});

/** `GET /health` plus the empty `/__ping` route the benchmark uses as the runtime's ceiling. */
export const opsRoutes = createRouter()
  .openapi(health, async (c) => {
    const checks = await checkBindings(c.env, c.get("timing"));
    const ok = Object.values(checks).every((check) => check.ok);
    c.header("cache-control", "no-store");
    return c.json(
      {
        status: ok ? "ok" : "degraded",
        version: versionOf(c.env),
        environment: c.env.ENVIRONMENT,
        checks,
        circuits: circuitSnapshot(),
      },
      ok ? 200 : 503,
    );
  })
  // Deliberately empty: the cost of the runtime + middleware alone, the bench's ceiling.
  .get("/__ping", (c) => c.body(null, 204));
