/**
 * Stand-ins for a D1 binding in trouble, handed to the code where the platform hands it the
 * real binding (`worker.fetch(request, { ...env, DB }, ctx)`, a cart object's env). No
 * production code knows about them.
 */

/** Counts the queries that reached the database (bound statements executed, batches, execs). */
export interface FaultyD1 extends D1Database {
  readonly calls: number;
}

type Behaviour = <T>(run: () => Promise<T>) => Promise<T>;

function faulty(inner: D1Database | null, behaviour: Behaviour): FaultyD1 {
  let calls = 0;
  const counted: Behaviour = (run) => {
    calls++;
    return behaviour(run);
  };
  const missing = () => Promise.reject(new Error("no database behind this fake"));
  const reals = new WeakMap<object, D1PreparedStatement>();
  const statement = (real: D1PreparedStatement | null): D1PreparedStatement => {
    const fake = {
      bind: (...values: unknown[]) => statement(real ? real.bind(...values) : null),
      first: (column?: string) =>
        counted(() => (real ? (column === undefined ? real.first() : real.first(column)) : missing())),
      run: () => counted(() => (real ? real.run() : missing())),
      all: () => counted(() => (real ? real.all() : missing())),
      raw: (options?: { columnNames?: boolean }) =>
        counted(() =>
          real ? (options?.columnNames ? real.raw({ columnNames: true }) : real.raw()) : missing(),
        ),
    };
    if (real) reals.set(fake, real);
    return fake as unknown as D1PreparedStatement;
  };
  const db = {
    get calls() {
      return calls;
    },
    prepare: (query: string) => statement(inner ? inner.prepare(query) : null),
    batch: (statements: D1PreparedStatement[]) =>
      counted(() => (inner ? inner.batch(statements.map((s) => reals.get(s) ?? s)) : missing())),
    exec: (query: string) => counted(() => (inner ? inner.exec(query) : missing())),
    withSession: () => {
      throw new Error("sessions are not supported by the fake");
    },
    dump: () => counted(() => missing()),
  };
  return db as unknown as FaultyD1;
}

/** A D1 that answers every query with one of D1's own retryable errors. */
export function failingD1(message = "D1_ERROR: Network connection lost."): FaultyD1 {
  return faulty(null, () => Promise.reject(new Error(message)));
}

/** A D1 whose every query hangs and never answers. */
export function hangingD1(): FaultyD1 {
  return faulty(null, () => new Promise<never>(() => undefined));
}

/** The real `inner` database, but every query waits `delayMs` first (an overloaded D1). */
export function slowD1(inner: D1Database, delayMs: number): FaultyD1 {
  return faulty(inner, async (run) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return run();
  });
}
