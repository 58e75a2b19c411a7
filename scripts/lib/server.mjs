import { createWriteStream } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { DEFAULT_PERSIST } from "./local-d1.mjs";
import { ratelimitCountersOnTmpfs } from "./ratelimit-tmpfs.mjs";
import { ROOT, runWrangler, WORKER_CONFIGS } from "./wrangler.mjs";

// Miniflare is wrangler's own dependency: resolve it through wrangler so both always agree.
const requireFromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
// Miniflare 5 takes a new option shape; wrangler itself passes its v4-style options through
// `convertV4MiniflareOptions`, and so do we.
const { convertV4MiniflareOptions, Log, LogLevel, Miniflare } = requireFromWrangler("miniflare");

/**
 * Bundles one Worker exactly as `wrangler deploy` would (`--dry-run --outdir`), so the
 * server runs the same code that ships.
 * @param {string} config wrangler config path, relative to the repository root
 * @param {string} [distDir] where bundles go, default `dist/`
 * @returns {Promise<string>} path of the bundled entry module
 */
export async function buildWorker(config, distDir = join(ROOT, "dist")) {
  const entry = builtEntry(config, distDir);
  await runWrangler(["deploy", "--dry-run", "-c", config, "--outdir", dirname(entry)], { quiet: true });
  return entry;
}

/** Where `buildWorker` puts the entry module of `config`. */
function builtEntry(config, distDir = join(ROOT, "dist")) {
  return join(distDir, config.replace(/[^a-z0-9]+/gi, "-"), "index.js");
}

/**
 * The secrets file for one Worker: `envFile` if given, else wrangler's default `.dev.vars`,
 * else the committed `.dev.vars.example` so a fresh clone serves without `npm run dev` first.
 * @returns {Promise<string | undefined>} a path, or undefined for wrangler's default lookup
 */
async function secretsFile(dir, envFile) {
  if (envFile) return join(dir, envFile);
  const found = (name) =>
    access(join(dir, name)).then(
      () => true,
      () => false,
    );
  if (await found(".dev.vars")) return undefined;
  return (await found(".dev.vars.example")) ? join(dir, ".dev.vars.example") : undefined;
}

/**
 * @typedef {object} StartServerOptions
 * @property {number} [port] listening port; 0 picks a free one. Default 8787.
 * @property {string} [host] Default "127.0.0.1".
 * @property {string | false} [persist] state directory shared with `wrangler dev` and the
 *   seed scripts (`.wrangler/state`); `false` keeps everything in memory. Default `.wrangler/state`.
 * @property {boolean} [quiet] drop the worker's per-request logs (the bench sets this). Default false.
 * @property {string} [logFile] append the Workers' structured log lines to this file instead
 *   (one JSON object per line), e.g. for a harness to show why a run failed.
 * @property {string} [envFile] secrets file name to read instead of `.dev.vars`, beside each
 *   Worker's config; the bench uses `.dev.vars.example` so results never depend on local secrets.
 * @property {string} [distDir] where the bundles are written. Default `dist/`.
 * @property {number} [inspectorPort] open workerd's DevTools inspector here (CPU profiles of the bench)
 * @property {Record<string, string>} [vars] plain-text variables that override every Worker's
 *   `[vars]`, e.g. `{ SEARCH_CACHE_TTL: "0" }` to measure search without its cache.
 * @property {boolean} [build] bundle the Workers first. Default true; `false` reuses the bundles
 *   already in `distDir` (a restart of the same code, as the crash harness does).
 * @property {boolean} [triggerHandlers] serve `/cdn-cgi/local/scheduled` so a caller can run
 *   the cron handler on demand. Default false.
 *
 * @typedef {object} RunningServer
 * @property {URL} url base URL, e.g. http://127.0.0.1:8787/
 * @property {import("miniflare").Miniflare} mf the Miniflare instance (bindings via `mf.getD1Database("DB")` …)
 * @property {() => Promise<void>} close stops workerd
 */

/**
 * Serves the Workers in `WORKER_CONFIGS` straight from Miniflare (no `wrangler dev`
 * proxy in front, which drops requests under concurrent load) with the bindings from
 * their wrangler configs (D1, KV, Durable Objects, queues, assets, version metadata,
 * `.dev.vars`) and the given persisted state.
 * @param {StartServerOptions} [options]
 * @returns {Promise<RunningServer>}
 */
export async function startServer({
  port = 8787,
  host = "127.0.0.1",
  persist = DEFAULT_PERSIST,
  quiet = false,
  logFile,
  envFile,
  distDir,
  vars = {},
  build = true,
  triggerHandlers = false,
  inspectorPort,
} = {}) {
  const workers = [];
  for (const config of WORKER_CONFIGS) {
    const scriptPath = build ? await buildWorker(config, distDir) : builtEntry(config, distDir);
    const configPath = join(ROOT, config);
    const secrets = await secretsFile(dirname(configPath), envFile);
    // The bundle is self-contained, so wrangler's module rules (only used to discover
    // extra modules) do not apply and Miniflare 5 refuses them.
    const { modulesRules: _unused, ...workerOptions } = unstable_getMiniflareWorkerOptions(
      configPath,
      undefined,
      secrets ? { envFiles: [secrets] } : undefined,
    ).workerOptions;
    workers.push({
      name: unstable_readConfig({ config: configPath }).name,
      ...workerOptions,
      bindings: { ...workerOptions.bindings, ...vars },
      modulesRoot: dirname(scriptPath),
      modules: [{ type: "ESModule", path: scriptPath }],
    });
  }
  if (persist) await mkdir(persist, { recursive: true });
  const dropCounters = persist ? await ratelimitCountersOnTmpfs(persist) : async () => {};
  const logStream = logFile ? createWriteStream(logFile, { flags: "a" }) : null;
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host,
      port,
      workers,
      rootPath: ROOT,
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
      resourcePersistencePath: persist ? join(persist, "v3") : undefined,
      log: new Log(quiet ? LogLevel.WARN : LogLevel.INFO),
      logRequests: false,
      enableDevRegistry: false,
      unsafeTriggerHandlers: triggerHandlers,
      telemetry: { enabled: false },
      // Offline: never fetch the live `request.cf` shape from workers.cloudflare.com.
      cf: false,
      ...(logStream
        ? { handleStructuredLogs: (line) => logStream.write(`${JSON.stringify(line)}\n`) }
        : quiet
          ? { handleStructuredLogs: () => {} }
          : {}),
    }),
  );
  const url = await mf.ready;
  return {
    url,
    mf,
    close: async () => {
      await mf.dispose();
      await dropCounters();
      logStream?.end();
    },
  };
}
