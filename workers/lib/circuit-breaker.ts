/**
 * Circuit breakers for calls to dependencies that can hang or fail (payment provider, 3PL
 * webhook, D1).
 *
 * closed → open after `failureThreshold` consecutive failures (a timeout is a failure) →
 * half-open once `cooldownMs` has passed, letting exactly one trial call through → closed if
 * it succeeds, open again (for another cool-down) if it fails. While open, calls fail at once
 * with {@link CircuitOpenError}, which carries how long until the next trial.
 *
 * State lives in isolate memory, deliberately. A breaker's job is to stop *this* isolate
 * from queueing requests behind a dead dependency, and every isolate learns that within
 * `failureThreshold` calls. A global breaker (one Durable Object) would add a round trip to
 * every payment and D1 call, the hot path it protects, and make that object a single point of
 * failure; the only cost of per-isolate state is a few extra failures per isolate per outage.
 */

export type CircuitState = "closed" | "open" | "half_open";

export interface CircuitBreakerSettings {
  /** Consecutive failures (timeouts included) that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before one trial call is let through. */
  cooldownMs: number;
}

export interface CircuitStateChange {
  name: string;
  from: CircuitState;
  to: CircuitState;
  /** Consecutive failures counted when the change happened. */
  failures: number;
}

export interface CallOptions {
  /**
   * Whether an error says the dependency is unhealthy. Refusals that prove it answered
   * (a 404, a validation error, a constraint violation) should not open the circuit.
   * Every error counts when omitted.
   */
  isFailure?: (error: unknown) => boolean;
  /** Told about every state change this call causes (metrics, logs). */
  onStateChange?: (change: CircuitStateChange) => void;
}

/** The circuit is open: the call was not attempted. */
export class CircuitOpenError extends Error {
  constructor(
    readonly circuit: string,
    /** Milliseconds until a trial call will be let through. */
    readonly retryAfterMs: number,
  ) {
    super(`circuit ${circuit} is open; next trial in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = "CircuitOpenError";
  }

  /** Whole seconds for a `Retry-After` header (at least 1). */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.retryAfterMs / 1000));
  }
}

/** One breaker; see the module comment for the state machine. */
export class CircuitBreaker {
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #trialStartedAt: number | null = null;
  #settings: CircuitBreakerSettings;

  constructor(
    readonly name: string,
    settings: CircuitBreakerSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.#settings = { ...settings };
  }

  get state(): CircuitState {
    return this.#state;
  }

  get failures(): number {
    return this.#failures;
  }

  get settings(): Readonly<CircuitBreakerSettings> {
    return this.#settings;
  }

  /** Milliseconds until an open circuit lets a trial through (0 when not open). */
  get retryAfterMs(): number {
    if (this.#state !== "open") return 0;
    return Math.max(0, this.#openedAt + this.#settings.cooldownMs - this.now());
  }

  /** Applies new settings (from env vars); the current state and counts are kept. */
  configure(settings: CircuitBreakerSettings): void {
    this.#settings = { ...settings };
  }

  /**
   * Runs `call` through the breaker. Throws {@link CircuitOpenError} without calling when the
   * circuit is open (or half-open with its trial still running). `call` must be bounded by a
   * timeout: a call that never settles would hold the half-open trial slot until the cool-down
   * has passed again.
   */
  async execute<T>(call: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    const trial = this.#admit(options);
    try {
      const result = await call();
      this.#succeeded(options);
      return result;
    } catch (error) {
      if (options.isFailure?.(error) ?? true) this.#failed(options);
      else this.#succeeded(options);
      throw error;
    } finally {
      if (trial) this.#trialStartedAt = null;
    }
  }

  /** Returns whether this call is the half-open trial; throws when the call is refused. */
  #admit(options: CallOptions): boolean {
    const now = this.now();
    const { cooldownMs } = this.#settings;
    if (this.#state === "closed") return false;
    if (this.#state === "open") {
      const wait = this.#openedAt + cooldownMs - now;
      if (wait > 0) throw new CircuitOpenError(this.name, wait);
      this.#move("half_open", options);
    }
    // Half-open: one trial at a time. A trial that outlived a whole cool-down is presumed lost.
    if (this.#trialStartedAt !== null && now - this.#trialStartedAt < cooldownMs) {
      throw new CircuitOpenError(this.name, this.#trialStartedAt + cooldownMs - now);
    }
    this.#trialStartedAt = now;
    return true;
  }

  #succeeded(options: CallOptions): void {
    this.#failures = 0;
    if (this.#state === "half_open") this.#move("closed", options);
  }

  #failed(options: CallOptions): void {
    this.#failures += 1;
    const trip =
      this.#state === "half_open" ||
      (this.#state === "closed" && this.#failures >= this.#settings.failureThreshold);
    if (trip) {
      this.#openedAt = this.now();
      this.#move("open", options);
    }
  }

  #move(to: CircuitState, options: CallOptions): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    try {
      options.onStateChange?.({ name: this.name, from, to, failures: this.#failures });
    } catch {
      // An observer (metrics, logging) must never change the outcome of the call.
    }
  }
}

const registry = new Map<string, CircuitBreaker>();
let skewMs = 0;
const clock = () => Date.now() + skewMs;

/**
 * Moves the isolate's breakers `ms` into the future, as if a cool-down had been waited out
 * (tests advance time instead of sleeping); `resetCircuitBreakers` puts the wall clock back.
 */
export function advanceCircuitClock(ms: number): void {
  skewMs += ms;
}

/**
 * The isolate's breaker called `name`, created on first use. Settings are re-applied on each
 * lookup, so the values come from the env vars of the code path that uses the breaker.
 */
export function circuitBreaker(name: string, settings: CircuitBreakerSettings): CircuitBreaker {
  const existing = registry.get(name);
  if (existing) {
    existing.configure(settings);
    return existing;
  }
  const breaker = new CircuitBreaker(name, settings, clock);
  registry.set(name, breaker);
  return breaker;
}

/**
 * The refusal a call through breaker `name` would get right now (open and cooling down), or
 * null. Lets a caller skip work that is bound to need the dependency, without a call.
 */
export function openCircuit(name: string): CircuitOpenError | null {
  const breaker = registry.get(name);
  const wait = breaker?.retryAfterMs ?? 0;
  return wait > 0 ? new CircuitOpenError(name, wait) : null;
}

/** The breakers this isolate has used, for `/health`. */
export function circuitSnapshot(): Record<
  string,
  { state: CircuitState; failures: number; retry_after_ms: number }
> {
  return Object.fromEntries(
    [...registry].map(([name, breaker]) => [
      name,
      { state: breaker.state, failures: breaker.failures, retry_after_ms: breaker.retryAfterMs },
    ]),
  );
}

/** Forgets every breaker of this isolate (tests, so one test's outage is not the next one's). */
export function resetCircuitBreakers(): void {
  registry.clear();
  skewMs = 0;
}
