import { afterEach, describe, expect, it } from "vitest";
import {
  CircuitBreaker,
  CircuitOpenError,
  type CircuitStateChange,
  circuitBreaker,
  circuitSnapshot,
  openCircuit,
  resetCircuitBreakers,
} from "../workers/lib/circuit-breaker";
import { TimeoutError, within, withTimeout } from "../workers/lib/timeout";

/** A breaker on a hand-driven clock, recording every state change. */
function breakerAt(settings = { failureThreshold: 3, cooldownMs: 1_000 }) {
  const clock = { now: 1_000_000 };
  const breaker = new CircuitBreaker(`test-${crypto.randomUUID()}`, settings, () => clock.now);
  const changes: CircuitStateChange[] = [];
  const onStateChange = (change: CircuitStateChange) => changes.push(change);
  let calls = 0;
  const succeed = () =>
    breaker.execute(
      async () => {
        calls++;
        return "ok";
      },
      { onStateChange },
    );
  const fail = (error: unknown = new Error("down")) =>
    breaker
      .execute(
        async () => {
          calls++;
          throw error;
        },
        { onStateChange, isFailure: (e) => e !== "refusal" },
      )
      .catch((e: unknown) => e);
  return { clock, breaker, changes, succeed, fail, calls: () => calls };
}

afterEach(() => resetCircuitBreakers());

describe("circuit breaker", () => {
  it("opens after the threshold of consecutive failures and then refuses without calling", async () => {
    const b = breakerAt();
    await b.fail();
    await b.fail();
    expect(b.breaker.state).toBe("closed");
    await b.fail();
    expect(b.breaker.state).toBe("open");
    expect(b.changes).toEqual([{ name: b.breaker.name, from: "closed", to: "open", failures: 3 }]);

    b.clock.now += 400;
    const refused = await b.fail();
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect((refused as CircuitOpenError).retryAfterMs).toBe(600);
    expect((refused as CircuitOpenError).retryAfterSeconds).toBe(1);
    expect(b.calls()).toBe(3);
  });

  it("counts only consecutive failures: a success in between resets the count", async () => {
    const b = breakerAt();
    await b.fail();
    await b.fail();
    await b.succeed();
    await b.fail();
    await b.fail();
    expect(b.breaker.state).toBe("closed");
    expect(b.breaker.failures).toBe(2);
  });

  it("does not count refusals that prove the dependency answered", async () => {
    const b = breakerAt({ failureThreshold: 1, cooldownMs: 1_000 });
    expect(await b.fail("refusal")).toBe("refusal");
    expect(b.breaker.state).toBe("closed");
  });

  it("lets exactly one trial through after the cool-down and closes when it succeeds", async () => {
    const b = breakerAt();
    for (let i = 0; i < 3; i++) await b.fail();
    b.clock.now += 1_000;
    let release: () => void = () => undefined;
    const trial = b.breaker.execute(
      () =>
        new Promise<string>((resolve) => {
          release = () => resolve("recovered");
        }),
      { onStateChange: (change) => b.changes.push(change) },
    );
    expect(b.breaker.state).toBe("half_open");
    // A second caller while the trial is in flight is refused, not sent.
    expect(await b.fail()).toBeInstanceOf(CircuitOpenError);
    release();
    expect(await trial).toBe("recovered");
    expect(b.breaker.state).toBe("closed");
    expect(b.changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      "closed>open",
      "open>half_open",
      "half_open>closed",
    ]);
    expect(await b.succeed()).toBe("ok");
  });

  it("reopens for a whole new cool-down when the trial fails", async () => {
    const b = breakerAt();
    for (let i = 0; i < 3; i++) await b.fail();
    b.clock.now += 1_500;
    await b.fail();
    expect(b.breaker.state).toBe("open");
    expect(b.breaker.retryAfterMs).toBe(1_000);
    b.clock.now += 999;
    expect(await b.fail()).toBeInstanceOf(CircuitOpenError);
    expect(b.changes.map((c) => c.to)).toEqual(["open", "half_open", "open"]);
  });

  it("presumes a trial lost after a whole cool-down and admits another one", async () => {
    const b = breakerAt();
    for (let i = 0; i < 3; i++) await b.fail();
    b.clock.now += 1_000;
    void b.breaker.execute(() => new Promise(() => undefined));
    expect(await b.fail()).toBeInstanceOf(CircuitOpenError);
    b.clock.now += 1_000;
    expect(await b.succeed()).toBe("ok");
    expect(b.breaker.state).toBe("closed");
  });

  it("keeps one breaker per name in the isolate, reported by circuitSnapshot and openCircuit", async () => {
    const settings = { failureThreshold: 1, cooldownMs: 60_000 };
    const breaker = circuitBreaker("payment:test", settings);
    expect(circuitBreaker("payment:test", settings)).toBe(breaker);
    expect(openCircuit("payment:test")).toBeNull();
    await breaker.execute(() => Promise.reject(new Error("down"))).catch(() => undefined);
    expect(circuitSnapshot()["payment:test"]).toMatchObject({ state: "open", failures: 1 });
    expect(openCircuit("payment:test")?.retryAfterSeconds).toBeGreaterThan(50);
    expect(openCircuit("never-used")).toBeNull();
  });
});

describe("timeouts", () => {
  it("rejects with TimeoutError at the deadline and aborts the work's signal", async () => {
    let aborted: unknown = null;
    const started = Date.now();
    const error = await withTimeout("slow dependency", 50, (signal) => {
      signal.addEventListener("abort", () => {
        aborted = signal.reason;
      });
      return new Promise<never>(() => undefined);
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(aborted).toBe(error);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("passes through a result or error that arrives in time", async () => {
    expect(await withTimeout("x", 1_000, async () => 42)).toBe(42);
    await expect(withTimeout("x", 1_000, async () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
  });

  it("within() answers undefined when the budget passes first, without failing later", async () => {
    const late = new Promise<string>((_, reject) => setTimeout(() => reject(new Error("late")), 80));
    expect(await within(20, late)).toBeUndefined();
    expect(await within(1_000, Promise.resolve("quick"))).toBe("quick");
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
});
