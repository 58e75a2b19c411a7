import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root, so scripts behave the same from any working directory. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Wrangler configs of every Worker that runs locally, relative to the repository root. The
 * first is the edge worker: it serves the public port and owns the D1 migrations the seed
 * applies. The others run beside it in the same runtime, sharing D1 and queues.
 */
export const WORKER_CONFIGS = ["wrangler.toml", "workers/fulfilment/wrangler.toml"];

const require = createRequire(import.meta.url);
const WRANGLER_BIN = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

// Offline by design: no telemetry calls, no interactive prompts.
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: process.env.CI ?? "1" };

/**
 * Runs the project's wrangler with the current Node (npm scripts put the pinned Node 22
 * first on PATH, and `process.execPath` keeps it even if a child resets PATH).
 * `quiet` captures output and only shows it when the command fails.
 * @param {string[]} args
 * @param {{ quiet?: boolean }} [options]
 * @returns {Promise<void>}
 */
export function runWrangler(args, { quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER_BIN, ...args], {
      cwd: ROOT,
      env: WRANGLER_ENV,
      stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    let tail = "";
    const keepTail = (chunk) => {
      tail = (tail + chunk).slice(-8_000);
    };
    child.stdout?.on("data", keepTail);
    child.stderr?.on("data", keepTail);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) return resolve();
      if (quiet) process.stderr.write(tail);
      reject(new Error(`wrangler ${args.join(" ")} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/**
 * Starts a long-running wrangler process (e.g. `wrangler dev`), by default with inherited stdio.
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, stdio?: import("node:child_process").StdioOptions }} [options]
 *   `env` adds to the environment wrangler runs with.
 */
export function spawnWrangler(args, { env = {}, stdio = "inherit" } = {}) {
  return spawn(process.execPath, [WRANGLER_BIN, ...args], {
    cwd: ROOT,
    env: { ...WRANGLER_ENV, ...env },
    stdio,
  });
}
