import type { CircuitStateChange } from "./circuit-breaker";
import { log } from "./logging";
import { type MetricsSink, metricsFor } from "./metrics";

/**
 * Logs a breaker's state changes and emits them as `breaker` metrics, so a dashboard shows
 * when and where (which version, by blob5) a dependency was cut off and restored.
 */
export function reportCircuitChanges(env: {
  METRICS?: MetricsSink;
  CF_VERSION_METADATA?: WorkerVersionMetadata;
}): (change: CircuitStateChange) => void {
  return (change) => {
    log(change.to === "open" ? "warn" : "info", "circuit_state_changed", {
      circuit: change.name,
      from: change.from,
      to: change.to,
      failures: change.failures,
    });
    metricsFor(env).breaker(change);
  };
}
