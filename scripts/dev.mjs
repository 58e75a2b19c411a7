#!/usr/bin/env node
// `npm run dev`: local secrets, migrated and seeded local D1, then `wrangler dev` on :8787.
// Extra arguments go to wrangler dev, e.g. `npm run dev -- --port 8788`.
import { access, copyFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { migrateLocal, seedLocal } from "./lib/local-d1.mjs";
import { ROOT, spawnWrangler, WORKER_CONFIGS } from "./lib/wrangler.mjs";

const exists = (path) =>
  access(path).then(
    () => true,
    () => false,
  );

// Each Worker reads the .dev.vars beside its own wrangler config.
for (const config of WORKER_CONFIGS) {
  const dir = join(ROOT, dirname(config));
  const devVars = join(dir, ".dev.vars");
  const example = join(dir, ".dev.vars.example");
  if ((await exists(example)) && !(await exists(devVars))) {
    await copyFile(example, devVars);
    console.log(`Created ${relative(ROOT, devVars)} from ${relative(ROOT, example)} (local-only secrets).`);
  }
}

console.log("Applying local D1 migrations…");
await migrateLocal();
console.log("Seeding the demo catalog (idempotent)…");
const { bytes } = await seedLocal();
console.log(`Seeded ${(bytes / 1e6).toFixed(1)} MB of catalog SQL into .wrangler/state.`);

// Multi-config dev: the first config is served on the port, the others (e.g. the
// fulfilment worker) run alongside it with their bindings wired together.
const configArgs = WORKER_CONFIGS.flatMap((config) => ["-c", config]);
const extra = process.argv.slice(2);
const port = extra.some((arg) => arg.startsWith("--port")) ? [] : ["--port", "8787"];
const wrangler = spawnWrangler(["dev", ...configArgs, ...port, ...extra]);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
