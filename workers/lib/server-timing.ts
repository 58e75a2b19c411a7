import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { setResponseHeader } from "./response-headers";

/** The dependencies measured today (health probes, search); any RFC 7230 token is accepted. */
export type TimingName = "kv" | "d1" | (string & {});

interface Entry {
  dur: number;
  count: number;
}

// Server-Timing metric names are RFC 7230 tokens; anything else would corrupt the header.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

/**
 * Home-made rather than `hono/timing`: that middleware writes one header entry per measured
 * call, and a search page making a dozen D1 reads would answer a dozen `d1` entries; here
 * calls to one dependency add up to one entry with their count.
 *
 * Accumulates where one request spent its time. Calls to the same dependency are summed
 * (`kv;dur=4.1;desc="3 calls"`), so a handler that reads KV in a loop stays one entry.
 *
 * In Workers, clocks only advance across I/O (a Spectre mitigation), so durations measure
 * time spent waiting on KV, D1, Durable Objects and subrequests, which is what matters here.
 */
export class ServerTiming {
  readonly #entries = new Map<string, Entry>();

  /** Runs `fn` and adds its wall time to `name`, whether it resolves or throws. */
  async measure<T>(name: TimingName, fn: () => Promise<T> | T): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.record(name, performance.now() - started);
    }
  }

  /** Adds an externally measured duration in milliseconds. */
  record(name: TimingName, durationMs: number): void {
    if (!TOKEN.test(name)) throw new Error(`invalid Server-Timing metric name: ${name}`);
    const entry = this.#entries.get(name) ?? { dur: 0, count: 0 };
    entry.dur += Math.max(0, durationMs);
    entry.count += 1;
    this.#entries.set(name, entry);
  }

  /** Total milliseconds recorded under `name` (0 when never measured). */
  total(name: TimingName): number {
    return this.#entries.get(name)?.dur ?? 0;
  }

  /** The `Server-Timing` header value, with `total` appended when given. */
  header(totalMs?: number): string {
    const parts = [...this.#entries].map(([name, { dur, count }]) => {
      const base = `${name};dur=${round(dur)}`;
      return count > 1 ? `${base};desc="${count} calls"` : base;
    });
    if (totalMs !== undefined) parts.push(`total;dur=${round(totalMs)}`);
    return parts.join(", ");
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Puts a fresh `ServerTiming` on the context (`c.get("timing")`) and answers with its
 * `Server-Timing` header, including the request's total, on every response.
 */
export const serverTiming = (): MiddlewareHandler<AppEnv> =>
  async function serverTiming(c, next) {
    const started = performance.now();
    const timing = new ServerTiming();
    c.set("timing", timing);
    await next();
    setResponseHeader(c, "server-timing", timing.header(performance.now() - started));
  };
