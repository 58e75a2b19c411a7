import { CircuitOpenError, type CircuitStateChange, circuitBreaker } from "./circuit-breaker";
import type { DatabaseSettings } from "./resilience-settings";
import { TimeoutError, withTimeout } from "./timeout";

/** D1 is down, overloaded or too slow: retry later. Maps to 503 `database_unavailable`. */
export class DatabaseUnavailableError extends Error {
  readonly code = "database_unavailable";
  constructor(
    message: string,
    /** Seconds a client should wait before retrying. */
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DatabaseUnavailableError";
  }
}

/**
 * D1 being down as an RPC answer: a Durable Object answers refusals as values (exceptions are
 * for bugs), so an outage crosses the RPC boundary as this and becomes an error again at the
 * edge. {@link databaseDown} and {@link databaseDownError} are the one pair of conversions.
 */
export interface DatabaseDown {
  ok: false;
  reason: "database_unavailable";
  detail: string;
  data: Record<string, string | number | null> & { retry_after: number };
}

/** Error → value: the answer for an outage; `extra` joins `data` (e.g. the checkout id). */
export function databaseDown(
  outage: { retryAfterSeconds: number },
  detail = "The database is temporarily unavailable; retry shortly.",
  extra: Record<string, string | number | null> = {},
): DatabaseDown {
  return {
    ok: false,
    reason: "database_unavailable",
    detail,
    data: { ...extra, retry_after: outage.retryAfterSeconds },
  };
}

/** Value → error: what the edge throws for a `database_unavailable` answer (503 with Retry-After). */
export function databaseDownError(answer: {
  detail?: string;
  data?: Record<string, unknown>;
}): DatabaseUnavailableError {
  const retryAfter = answer.data?.retry_after;
  return new DatabaseUnavailableError(
    answer.detail ?? "The database is temporarily unavailable.",
    typeof retryAfter === "number" ? retryAfter : TRANSIENT_RETRY_AFTER_SECONDS,
  );
}

/**
 * D1 errors that say the database (not the query) failed, from Cloudflare's D1 error list
 * ("Retry the operation"). SQL errors such as constraint violations are the caller's business
 * and pass through untouched: they prove D1 is answering.
 */
const OUTAGE =
  /network connection lost|reset because its code was updated|caused object to be reset|overloaded|too many requests queued|exceeded timeout|execution timeout|cannot resolve d1|transient issue|d1 db is unavailable/i;

/** `error` and its causes, innermost last: drizzle wraps a failed query's error as `cause`. */
function* causes(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

/** Whether `error` (or what it wraps) means D1 is unavailable, rather than the query being wrong. */
export function isDatabaseOutage(error: unknown): boolean {
  for (const e of causes(error)) {
    if (e instanceof DatabaseUnavailableError || e instanceof TimeoutError || e instanceof CircuitOpenError) {
      return true;
    }
    if (e instanceof Error && OUTAGE.test(e.message)) return true;
  }
  return false;
}

/**
 * The {@link DatabaseUnavailableError} thrown by a guarded database, found through the
 * wrappers (a drizzle `Failed query` error) it may arrive in; null for any other error.
 */
export function databaseOutage(error: unknown): DatabaseUnavailableError | null {
  for (const e of causes(error)) if (e instanceof DatabaseUnavailableError) return e;
  return null;
}

/** One failed query may be a blip: ask clients back soon (an open circuit names its own wait). */
const TRANSIENT_RETRY_AFTER_SECONDS = 5;

type Guard = <T>(operation: () => Promise<T>) => Promise<T>;

const GUARDED = Symbol("popcart.d1-guarded");

/** True for a database already wrapped by {@link guardDatabase}. */
export const isGuarded = (db: D1Database): boolean => GUARDED in db;

class GuardedStatement implements D1PreparedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly guard: Guard,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new GuardedStatement(this.inner.bind(...values), this.guard);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    return this.guard(() => (colName === undefined ? this.inner.first<T>() : this.inner.first<T>(colName)));
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.guard(() => this.inner.run<T>());
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.guard(() => this.inner.all<T>());
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    return this.guard<[string[], ...T[]] | T[]>(() =>
      options?.columnNames ? this.inner.raw<T>({ columnNames: true }) : this.inner.raw<T>(),
    );
  }
}

const unwrap = (statements: D1PreparedStatement[]) =>
  statements.map((statement) => (statement instanceof GuardedStatement ? statement.inner : statement));

class GuardedSession implements D1DatabaseSession {
  constructor(
    private readonly inner: D1DatabaseSession,
    private readonly guard: Guard,
  ) {}

  prepare(query: string): D1PreparedStatement {
    return new GuardedStatement(this.inner.prepare(query), this.guard);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.guard(() => this.inner.batch<T>(unwrap(statements)));
  }

  getBookmark(): D1SessionBookmark | null {
    return this.inner.getBookmark();
  }
}

class GuardedDatabase implements D1Database {
  readonly [GUARDED] = true;

  constructor(
    private readonly inner: D1Database,
    private readonly guard: Guard,
  ) {}

  prepare(query: string): D1PreparedStatement {
    return new GuardedStatement(this.inner.prepare(query), this.guard);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.guard(() => this.inner.batch<T>(unwrap(statements)));
  }

  exec(query: string): Promise<D1ExecResult> {
    return this.guard(() => this.inner.exec(query));
  }

  withSession(constraintOrBookmark?: D1SessionBookmark | D1SessionConstraint): D1DatabaseSession {
    return new GuardedSession(this.inner.withSession(constraintOrBookmark), this.guard);
  }

  dump(): Promise<ArrayBuffer> {
    return this.guard(() => this.inner.dump());
  }
}

/**
 * Wraps a D1 binding so every query has a deadline (`settings.timeoutMs`) and runs through
 * the isolate's `d1` circuit breaker. Outages (timeouts, D1's retryable errors, an open
 * circuit) surface as {@link DatabaseUnavailableError}; every other error is rethrown as is.
 *
 * A write that times out may still commit later, exactly as with a lost connection: the
 * callers' writes are idempotent (keys, `ON CONFLICT`, compare-and-set) for that reason.
 */
export function guardDatabase(
  db: D1Database,
  settings: DatabaseSettings,
  onStateChange?: (change: CircuitStateChange) => void,
): D1Database {
  const guard: Guard = async (operation) => {
    const breaker = circuitBreaker("d1", settings.breaker);
    try {
      return await breaker.execute(() => withTimeout("d1", settings.timeoutMs, operation), {
        isFailure: isDatabaseOutage,
        ...(onStateChange ? { onStateChange } : {}),
      });
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        throw new DatabaseUnavailableError("D1 is unavailable (circuit open).", error.retryAfterSeconds, {
          cause: error,
        });
      }
      if (isDatabaseOutage(error) && !(error instanceof DatabaseUnavailableError)) {
        throw new DatabaseUnavailableError(
          `D1 is unavailable: ${error instanceof Error ? error.message : String(error)}`,
          TRANSIENT_RETRY_AFTER_SECONDS,
          { cause: error },
        );
      }
      throw error;
    }
  };
  return new GuardedDatabase(db, guard);
}
