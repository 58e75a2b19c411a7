/** A dependency did not answer within its budget. */
export class TimeoutError extends Error {
  constructor(
    readonly dependency: string,
    readonly timeoutMs: number,
  ) {
    super(`${dependency} did not answer within ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/**
 * Runs `work` with a deadline: rejects with {@link TimeoutError} after `timeoutMs`, and aborts
 * the signal handed to `work` so a `fetch` given that signal is cancelled too. Work that
 * cannot be cancelled (a D1 query, an RPC) keeps running in the background; its late result
 * or error is dropped, never left unhandled.
 */
export async function withTimeout<T>(
  dependency: string,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(dependency, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const running = work(controller.signal);
  running.catch(() => undefined);
  try {
    return await Promise.race([running, deadline]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/**
 * Settles with `primary` if it answers within `budgetMs`; otherwise resolves to `undefined`
 * while `primary` keeps running (its rejection is observed, never unhandled). For hedged
 * reads: "answer from D1 if it is quick, else look for a fallback".
 */
export async function within<T>(budgetMs: number, primary: Promise<T>): Promise<T | undefined> {
  primary.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | null = null;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), budgetMs);
  });
  try {
    return await Promise.race([primary, late]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}
