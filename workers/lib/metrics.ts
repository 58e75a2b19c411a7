/**
 * Typed metrics over Workers Analytics Engine (binding `METRICS`, dataset `popcart_metrics`).
 *
 * Every data point has the same column layout so one SQL table serves every dashboard
 * (docs/dashboards.md):
 *
 * | column  | meaning                                                                 |
 * |---------|-------------------------------------------------------------------------|
 * | index1  | the kind (`request`, `reservation`, `checkout`, `payment`, `queue`,     |
 * |         | `waiting_room`, `breaker`, `degraded`, `promotion_code`)                |
 * | blob1   | the kind again (indexes are not selectable in every query)              |
 * | blob2   | subject: route pattern, SKU, checkout currency, provider, queue, room,  |
 * |         | circuit name, degraded dependency, promotion guess-limit scope          |
 * | blob3   | outcome: status class, granted/refused, started/completed/failed,       |
 * |         | the circuit's new state, the fallback that served a degraded read       |
 * | blob4   | reason / detail: refusal reason, failure code, HTTP method, event type, |
 * |         | the circuit's previous state, the degraded route                        |
 * | blob5   | worker version id (compare versions during a gradual rollout)           |
 * | double1 | count of events this point stands for (1, or a batch size)              |
 * | double2 | duration in ms: request latency, queue lag                              |
 * | double3 | a value: HTTP status, amount in minor units, quantity, queue place      |
 *
 * Analytics Engine samples at high volume: always aggregate with `SUM(_sample_interval * …)`.
 */

/** Where data points go: the Analytics Engine binding, or a recorder in tests. */
export interface MetricsSink {
  writeDataPoint(point: AnalyticsEngineDataPoint): void;
}

export type ReservationRefusal =
  | "insufficient_stock"
  | "sale_not_started"
  | "sale_ended"
  | "limit_exceeded"
  | "quantity_too_large"
  | "rate_limited"
  | "waiting_room"
  | (string & {});

export type PaymentOutcomeStatus = "succeeded" | "failed" | "canceled" | "requires_action" | (string & {});

export type QueueOutcome = "processed" | "retried" | "dead_lettered";

const NO_OP: MetricsSink = { writeDataPoint() {} };

// Analytics Engine limits: blobs total 16 KB, each index at most 96 bytes.
const MAX_BLOB = 256;
const clip = (value: string) => (value.length > MAX_BLOB ? value.slice(0, MAX_BLOB) : value);

/** Typed helpers for the metrics the on-call dashboards read. */
export class Metrics {
  constructor(
    private readonly sink: MetricsSink,
    private readonly version: string,
  ) {}

  /** One HTTP request: matched route pattern, status and latency. */
  request(m: { route: string; method: string; status: number; latencyMs: number }): void {
    this.write("request", m.route, `${Math.floor(m.status / 100)}xx`, m.method, 1, m.latencyMs, m.status);
  }

  /** A stock reservation attempt: granted, or refused with the inventory's reason. */
  reservation(
    m: { sku: string; quantity: number } & (
      | { granted: true }
      | { granted: false; reason: ReservationRefusal }
    ),
  ): void {
    const outcome = m.granted ? "granted" : "refused";
    this.write("reservation", m.sku, outcome, m.granted ? "" : m.reason, 1, 0, m.quantity);
  }

  /** A checkout's lifecycle step; `failed` carries the stable problem code as its reason. */
  checkout(m: {
    stage: "started" | "completed" | "failed";
    currency: string;
    amount: number;
    reason?: string;
  }): void {
    this.write("checkout", m.currency, m.stage, m.reason ?? "", 1, 0, m.amount);
  }

  /** A payment outcome from the provider (webhook or the test provider's confirmation). */
  payment(m: {
    provider: string;
    outcome: PaymentOutcomeStatus;
    amount: number;
    reason?: string;
    latencyMs?: number;
  }): void {
    this.write("payment", m.provider, m.outcome, m.reason ?? "", 1, m.latencyMs ?? 0, m.amount);
  }

  /**
   * Waiting-room activity: `joined` (double3 = the place given), `admitted` (a batch of tickets
   * crossing the frontier), `refused` (a reservation without a valid admission; reason = code).
   */
  waitingRoom(m: {
    room: string;
    event: "joined" | "admitted" | "refused";
    count?: number;
    reason?: string;
    position?: number;
  }): void {
    this.write("waiting_room", m.room, m.event, m.reason ?? "", m.count ?? 1, 0, m.position ?? 0);
  }

  /**
   * Queue consumption: `lagMs` is now minus the oldest message's timestamp in the batch;
   * `dead_lettered` counts messages given up on (sent to the DLQ after max retries).
   */
  queue(m: {
    queue: string;
    outcome: QueueOutcome;
    count: number;
    lagMs?: number;
    eventType?: string;
  }): void {
    this.write("queue", m.queue, m.outcome, m.eventType ?? "", m.count, m.lagMs ?? 0, 0);
  }

  /** A circuit breaker changed state (`closed` → `open` → `half_open` → `closed` …). */
  breaker(m: { name: string; from: string; to: string; failures: number }): void {
    this.write("breaker", m.name, m.to, m.from, 1, 0, m.failures);
  }

  /** Something a person must look at now, e.g. an order held from fulfilment (reason: its flags). */
  alert(m: { name: string; subject: string; reason: string }): void {
    this.write("alert", m.name, m.subject, m.reason, 1, 0, 0);
  }

  /** An invariant audit run: `count` discrepancies of `kind` (`total` for all of them). */
  audit(m: { trigger: string; kind: string; count: number }): void {
    this.write("audit", m.kind, m.trigger, "", m.count, 0, m.count);
  }

  /**
   * A promotion-code attempt that did not apply: `failed` (reason: why, e.g. `unknown_code`)
   * or `rate_limited` by a guess limit (subject: its scope, `client` or `code`). Failed
   * attempts per minute are the guessing dashboard (workers/promotions/guess-limits.ts).
   */
  promotionCode(m: { outcome: "failed" | "rate_limited"; reason: string; scope?: "client" | "code" }): void {
    this.write("promotion_code", m.scope ?? "apply", m.outcome, m.reason, 1, 0, 0);
  }

  /** A response served in a degraded mode, e.g. a catalog read answered from its last good copy. */
  degraded(m: { dependency: string; fallback: string; route: string }): void {
    this.write("degraded", m.dependency, m.fallback, m.route, 1, 0, 0);
  }

  private write(
    kind: string,
    subject: string,
    outcome: string,
    reason: string,
    count: number,
    durationMs: number,
    value: number,
  ): void {
    try {
      this.sink.writeDataPoint({
        indexes: [kind],
        blobs: [kind, clip(subject), clip(outcome), clip(reason), this.version],
        doubles: [count, durationMs, value],
      });
    } catch {
      // Metrics must never fail a request: a full buffer or a bad point only loses a sample.
    }
  }
}

/**
 * Metrics for `env`, writing to the `METRICS` binding when bound (a Worker without it, or a
 * test that injects a recorder by overriding `METRICS`, gets the matching sink).
 */
export function metricsFor(env: {
  CF_VERSION_METADATA?: WorkerVersionMetadata;
  METRICS?: MetricsSink;
}): Metrics {
  return new Metrics(env.METRICS ?? NO_OP, env.CF_VERSION_METADATA?.id ?? "local");
}
