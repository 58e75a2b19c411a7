// Condenses `wrangler dev`'s output for `npm run dev`: one line per binding table instead of
// a table per Worker per reload, the cron-trigger warning in one line, and the Workers' request
// logs held back while the demo bootstrap runs so the ready banner is the last thing printed.

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are control characters.
const ANSI = /\u001b\[[0-9;]*m/g;
const TABLE_START = /^(\S+) has access to the following bindings:$/;
const CRON_WARNING = /Scheduled Workers are not automatically triggered/;
// Access logs, queue batches and the Workers' own JSON log lines (prefixed with a worker label).
const REQUEST_LOG = /^(\[wrangler:info\] (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|QUEUE) |(\[[^\]]*\] )?\{)/;
const TYPES_HINT = /Your types might be out of date/;

/**
 * @param {{ write?: (text: string) => void, url: string, primaryWorker: string }} options
 * @returns {{
 *   feed: (chunk: string | Buffer) => void,
 *   holdRequestLogs: (hold: boolean) => number,
 *   quietFor: (ms: number, maxMs: number) => Promise<void>,
 * }}
 */
export function createDevOutput({ write = (text) => process.stdout.write(text), url, primaryWorker }) {
  let pending = "";
  /** @type {{ worker: string, bindings: number } | null} */
  let table = null;
  let skipBlock = false;
  let holding = false;
  let held = 0;
  let lastHeldAt = Date.now();
  let lastTable = "";
  const announced = new Set();

  const line = (raw) => {
    const text = raw.replace(ANSI, "").trimEnd();
    if (table) {
      if (text.startsWith("env.")) table.bindings++;
      if (text !== "") return;
      if (!announced.has(table.worker)) {
        announced.add(table.worker);
        write(`Worker ${table.worker}: ${table.bindings} bindings (wrangler.toml)\n`);
      }
      lastTable = table.worker;
      table = null;
      return;
    }
    const start = TABLE_START.exec(text);
    if (start?.[1]) {
      table = { worker: start[1], bindings: 0 };
      return;
    }
    // wrangler checks every Worker of a multi-config dev against the root worker-configuration.d.ts,
    // so the other Workers always look out of date; `npm run typecheck` catches real drift.
    if (TYPES_HINT.test(text) && lastTable !== primaryWorker) return;
    if (CRON_WARNING.test(text)) {
      write(`Cron triggers do not fire locally: curl "${url}/cdn-cgi/local/scheduled" runs them.\n`);
      skipBlock = true;
      return;
    }
    if (skipBlock) {
      // The warning's body ends with its documentation link.
      if (/For more details/.test(text)) skipBlock = false;
      return;
    }
    if (text === "" || /^[─-]+$/.test(text)) return;
    if (holding && REQUEST_LOG.test(text)) {
      held++;
      lastHeldAt = Date.now();
      return;
    }
    write(`${raw}\n`);
  };

  return {
    feed(chunk) {
      pending += String(chunk);
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const raw of lines) line(raw);
    },
    /** Starts or stops holding back request logs; returns how many were held since the start. */
    holdRequestLogs(hold) {
      holding = hold;
      const count = held;
      if (!hold) held = 0;
      return count;
    },
    /** Resolves once no held line has arrived for `ms` (queue backlogs draining), or after `maxMs`. */
    async quietFor(ms, maxMs) {
      const deadline = Date.now() + maxMs;
      while (Date.now() - lastHeldAt < ms && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
  };
}
