#!/usr/bin/env node
// `npm run dev`: local secrets, migrated and seeded local D1, then `wrangler dev` on :8787.
// Extra arguments go to wrangler dev, e.g. `npm run dev -- --port 8788 --inspector-port 9230`.
import { access, appendFile, copyFile, readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { unstable_readConfig } from "wrangler";
import { bootstrapDemo, waitForHealth } from "./lib/bootstrap.mjs";
import { createDevOutput } from "./lib/dev-output.mjs";
import { DEFAULT_PERSIST, migrateLocal, seedLocal } from "./lib/local-d1.mjs";
import { ratelimitCountersBackOnDisk } from "./lib/ratelimit-tmpfs.mjs";
import { ROOT, spawnWrangler, WORKER_CONFIGS } from "./lib/wrangler.mjs";

const exists = (path) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Runs one set-up step and prints it as a single line with its duration. */
async function step(label, run) {
  const started = performance.now();
  process.stdout.write(`${label}…`);
  const summary = await run();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(` ${summary ? `${summary} ` : ""}(${seconds} s)\n`);
}

const extra = process.argv.slice(2);
const portIndex = extra.findIndex((arg) => arg === "--port" || arg.startsWith("--port="));
const port =
  portIndex < 0 ? "8787" : (extra[portIndex]?.split("=")[1] ?? extra[portIndex + 1] ?? "8787").trim();
const url = `http://localhost:${port}`;

const keys = (text) => new Set([...text.matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*=/gm)].map((m) => m[1]));

// Each Worker reads the .dev.vars beside its own wrangler config. One created before a secret
// was added to the example gets that secret appended (its other values are left alone).
for (const config of WORKER_CONFIGS) {
  const dir = join(ROOT, dirname(config));
  const devVars = join(dir, ".dev.vars");
  const example = join(dir, ".dev.vars.example");
  if (!(await exists(example))) continue;
  if (!(await exists(devVars))) {
    await copyFile(example, devVars);
    console.log(`Created ${relative(ROOT, devVars)} from ${relative(ROOT, example)} (local-only secrets).`);
    continue;
  }
  const exampleText = await readFile(example, "utf8");
  const present = keys(await readFile(devVars, "utf8"));
  const missing = exampleText.split("\n").filter((line) => {
    const key = /^\s*([A-Z][A-Z0-9_]*)\s*=/.exec(line)?.[1];
    return key !== undefined && !present.has(key);
  });
  if (missing.length > 0) {
    await appendFile(devVars, `\n${missing.join("\n")}\n`);
    const names = missing.map((line) => line.split("=")[0]?.trim()).join(", ");
    console.log(`Added ${names} to ${relative(ROOT, devVars)} from ${relative(ROOT, example)}.`);
  }
}

await step("Applying local D1 migrations", async () => {
  await migrateLocal();
});
await step("Seeding the demo catalog (idempotent)", async () => {
  const { bytes } = await seedLocal();
  return `${(bytes / 1e6).toFixed(1)} MB of catalog SQL`;
});

await ratelimitCountersBackOnDisk(DEFAULT_PERSIST);

// Multi-config dev: the first config is served on the port, the others (e.g. the
// fulfilment worker) run alongside it with their bindings wired together.
const configArgs = WORKER_CONFIGS.flatMap((config) => ["-c", config]);
const portArgs = portIndex < 0 ? ["--port", port] : [];
const primaryWorker = unstable_readConfig(
  { config: join(ROOT, WORKER_CONFIGS[0]) },
  { hideWarnings: true },
).name;
const output = createDevOutput({ url, primaryWorker: primaryWorker ?? "" });
const wrangler = spawnWrangler(["dev", ...configArgs, ...portArgs, ...extra], {
  // Offline by design: never fetch the live `request.cf` shape (a placeholder is used).
  env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", FORCE_COLOR: process.stdout.isTTY ? "1" : "0" },
  stdio: ["inherit", "pipe", "pipe"],
});
wrangler.stdout?.on("data", (chunk) => output.feed(chunk));
wrangler.stderr?.on("data", (chunk) => output.feed(chunk));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

// Stock, the flash sale and the search index live behind the API (Durable Objects, FTS), so
// they are set up through it once the server answers. Their request logs wait until it is done.
output.holdRequestLogs(true);
const progress = (done, total) => {
  if (process.stdout.isTTY) process.stdout.write(`\rStocking SKUs: ${done}/${total}`);
  else if (done === total) process.stdout.write(`Stocking SKUs: ${done}/${total}\n`);
};
waitForHealth(url)
  .then(() =>
    bootstrapDemo({
      url,
      progress,
      log: (line) => console.log(`${process.stdout.isTTY ? "\r\u001b[2K" : ""}${line}`),
    }),
  )
  // The stock step queues inventory events; let that backlog drain before the banner.
  .then(() => output.quietFor(2_000, 60_000))
  .then(() => {
    const held = output.holdRequestLogs(false);
    console.log(`(${held} request and queue log lines from the demo set-up not shown)`);
    console.log(`\nPopcart is ready: storefront ${url}/  ·  API reference ${url}/docs\n`);
  })
  .catch((error) => {
    output.holdRequestLogs(false);
    console.error(`Demo bootstrap failed (the server still runs): ${error.message}`);
  });
