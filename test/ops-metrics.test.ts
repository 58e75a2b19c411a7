import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../workers/edge/app";
import { Metrics, type MetricsSink, metricsFor } from "../workers/lib/metrics";
import { timingOf } from "./helpers";

/** Keeps every data point written, in place of the Analytics Engine binding. */
function recorder() {
  const points: AnalyticsEngineDataPoint[] = [];
  const sink: MetricsSink = { writeDataPoint: (point) => void points.push(point) };
  return { points, sink };
}

describe("request metrics", () => {
  it("emits one request point per request with route pattern, status and latency", async () => {
    const { points, sink } = recorder();
    const app = createApp();
    app.get("/__slow", async (c) => {
      await scheduler.wait(20);
      return c.body(null, 204);
    });
    const testEnv = { ...env, METRICS: sink };
    const healthRes = await app.request("/health", {}, testEnv);
    await app.request("/no/such/thing", {}, testEnv);
    const slowRes = await app.request("/__slow", {}, testEnv);
    expect(points).toHaveLength(3);
    const [health, missing, slow] = points;
    expect(health?.indexes).toEqual(["request"]);
    expect(health?.blobs?.slice(0, 4)).toEqual(["request", "/health", "2xx", "GET"]);
    expect(health?.blobs?.[4]).toBe(env.CF_VERSION_METADATA.id);
    expect(health?.doubles?.[0]).toBe(1);
    expect(health?.doubles?.[2]).toBe(200);
    // Latency is the request's own time: it spans the D1 and KV probes /health ran, and fits
    // in the Server-Timing total measured around it (both rounded, hence the 0.1 ms slack).
    const healthTiming = healthRes.headers.get("server-timing");
    expect(health?.doubles?.[1]).toBeGreaterThanOrEqual(
      Math.max(timingOf(healthTiming, "d1"), timingOf(healthTiming, "kv")) - 0.1,
    );
    expect(health?.doubles?.[1]).toBeLessThanOrEqual(timingOf(healthTiming, "total") + 0.1);
    // A handler that waits 20 ms is recorded as taking at least that long.
    expect(slow?.blobs?.slice(1, 4)).toEqual(["/__slow", "2xx", "GET"]);
    expect(slow?.doubles?.[1]).toBeGreaterThanOrEqual(20);
    expect(slow?.doubles?.[1]).toBeLessThanOrEqual(
      timingOf(slowRes.headers.get("server-timing"), "total") + 0.1,
    );
    // Unknown paths are recorded under their pattern, so arbitrary URLs cannot explode cardinality.
    expect(missing?.blobs?.slice(1, 3)).toEqual(["/*", "4xx"]);
    expect(missing?.doubles?.[2]).toBe(404);
  });

  it("exposes the same metrics to handlers through c.get('metrics')", async () => {
    const { points, sink } = recorder();
    const app = createApp();
    app.post("/__reserve", (c) => {
      c.get("metrics").reservation({
        sku: "SKU-1",
        quantity: 2,
        granted: false,
        reason: "insufficient_stock",
      });
      return c.body(null, 204);
    });
    await app.request("/__reserve", { method: "POST" }, { ...env, METRICS: sink });
    expect(points.map((p) => p.blobs?.[0])).toEqual(["reservation", "request"]);
    expect(points[0]).toMatchObject({
      indexes: ["reservation"],
      blobs: ["reservation", "SKU-1", "refused", "insufficient_stock", env.CF_VERSION_METADATA.id],
      doubles: [1, 0, 2],
    });
  });

  it("never lets a failing sink fail the request", async () => {
    const app = createApp();
    const res = await app.request(
      "/health",
      {},
      {
        ...env,
        METRICS: {
          writeDataPoint() {
            throw new Error("buffer full");
          },
        },
      },
    );
    expect(res.status).toBe(200);
  });
});

describe("domain metric helpers", () => {
  it("lays out checkout, payment and queue points for the dashboards' SQL", () => {
    const { points, sink } = recorder();
    const metrics = new Metrics(sink, "ver-1");
    metrics.reservation({ sku: "SKU-9", quantity: 1, granted: true });
    metrics.checkout({ stage: "started", currency: "USD", amount: 4999 });
    metrics.checkout({ stage: "failed", currency: "USD", amount: 4999, reason: "payment_declined" });
    metrics.payment({ provider: "stripe", outcome: "succeeded", amount: 4999, latencyMs: 320 });
    metrics.queue({ queue: "popcart-order-events", outcome: "processed", count: 25, lagMs: 1200 });
    metrics.queue({
      queue: "popcart-order-events",
      outcome: "dead_lettered",
      count: 1,
      eventType: "order.placed",
    });
    expect(points.map((p) => [p.blobs?.slice(0, 4), p.doubles])).toEqual([
      [
        ["reservation", "SKU-9", "granted", ""],
        [1, 0, 1],
      ],
      [
        ["checkout", "USD", "started", ""],
        [1, 0, 4999],
      ],
      [
        ["checkout", "USD", "failed", "payment_declined"],
        [1, 0, 4999],
      ],
      [
        ["payment", "stripe", "succeeded", ""],
        [1, 320, 4999],
      ],
      [
        ["queue", "popcart-order-events", "processed", ""],
        [25, 1200, 0],
      ],
      [
        ["queue", "popcart-order-events", "dead_lettered", "order.placed"],
        [1, 0, 0],
      ],
    ]);
    expect(points.every((p) => p.blobs?.[4] === "ver-1")).toBe(true);
  });

  it("writes to the env's METRICS binding, and to nowhere when there is none", () => {
    // The Worker's real Analytics Engine binding, watched (the point still goes through).
    const written = vi.spyOn(env.METRICS, "writeDataPoint");
    try {
      metricsFor(env).request({ route: "/x", method: "GET", status: 200, latencyMs: 1 });
      expect(written).toHaveBeenCalledTimes(1);
      expect(written.mock.calls[0]?.[0]).toEqual({
        indexes: ["request"],
        blobs: ["request", "/x", "2xx", "GET", env.CF_VERSION_METADATA.id],
        doubles: [1, 1, 200],
      });
      // The binding is optional (a deploy without Analytics Engine): recording is then a no-op,
      // and nothing falls back to a binding the env was not given.
      metricsFor({ CF_VERSION_METADATA: env.CF_VERSION_METADATA }).checkout({
        stage: "completed",
        currency: "EUR",
        amount: 1,
      });
      expect(written).toHaveBeenCalledTimes(1);
    } finally {
      written.mockRestore();
    }
  });

  it("clips oversized blobs instead of losing the point", () => {
    const { points, sink } = recorder();
    new Metrics(sink, "v").reservation({ sku: "S".repeat(5000), quantity: 1, granted: true });
    expect(points[0]?.blobs?.[1]).toHaveLength(256);
  });
});
