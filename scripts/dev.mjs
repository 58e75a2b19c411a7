#!/usr/bin/env node
// `npm run dev`: local secrets, migrated and seeded local D1, then `wrangler dev` on :8787.
// Extra arguments go to wrangler dev, e.g. `npm run dev -- --port 8788`.
import { access, copyFile } from "node:fs/promises";
import { join } from "node:path";
import { migrateLocal, seedLocal } from "./lib/local-d1.mjs";
import { ROOT, spawnWrangler, WORKER_CONFIGS } from "./lib/wrangler.mjs";

const devVars = join(ROOT, ".dev.vars");
const exists = await access(devVars).then(
  () => true,
  () => false,
);
if (!exists) {
  await copyFile(join(ROOT, ".dev.vars.example"), devVars);
  console.log("Created .dev.vars from .dev.vars.example (local ADMIN_TOKEN and empty Stripe keys).");
}

console.log("Applying local D1 migrations…");
await migrateLocal();
console.log("Seeding the demo catalog (idempotent)…");
const { bytes } = await seedLocal();
console.log(`Seeded ${(bytes / 1e6).toFixed(1)} MB of catalog SQL into .wrangler/state.`);

// Multi-config dev: the first config is served on the port, the others (e.g. the
// fulfilment worker) run alongside it with their bindings wired together.
const configArgs = WORKER_CONFIGS.flatMap((config) => ["-c", config]);
const wrangler = spawnWrangler(["dev", ...configArgs, "--port", "8787", ...process.argv.slice(2)]);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
