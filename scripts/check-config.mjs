#!/usr/bin/env node
// `npm run check:config`: the production environment of each wrangler config declares the same
// bindings, vars and secrets as the development top level. Environments inherit none of them, so
// a binding added at the top level only would deploy a production Worker without it.
import { join } from "node:path";
import { unstable_readConfig } from "wrangler";
import { ROOT, WORKER_CONFIGS } from "./lib/wrangler.mjs";

const ENVIRONMENT = "production";

/** Bindings that exist only locally, with the reason. */
const DEVELOPMENT_ONLY = new Set([
  // The fulfilment Worker's route to the edge worker's local 3PL receiver (workers/fulfilment/index.ts).
  "service DEV_3PL",
]);

/** Every binding and variable name a resolved config exposes to the Worker, tagged by kind. */
function names(config) {
  const out = new Set();
  const add = (kind, list, key) => {
    for (const item of list ?? []) out.add(`${kind} ${item[key]}`);
  };
  for (const name of Object.keys(config.vars ?? {})) out.add(`var ${name}`);
  for (const name of config.secrets?.required ?? []) out.add(`secret ${name}`);
  add("d1", config.d1_databases, "binding");
  add("kv", config.kv_namespaces, "binding");
  add("durable object", config.durable_objects?.bindings, "name");
  add("queue producer", config.queues?.producers, "binding");
  add("queue consumer", config.queues?.consumers, "queue");
  add("analytics engine", config.analytics_engine_datasets, "binding");
  add("rate limit", config.ratelimits, "name");
  add("service", config.services, "binding");
  if (config.version_metadata) out.add(`version metadata ${config.version_metadata.binding}`);
  if (config.assets?.binding) out.add(`assets ${config.assets.binding}`);
  return out;
}

const problems = [];
for (const file of WORKER_CONFIGS) {
  const path = join(ROOT, file);
  const dev = unstable_readConfig({ config: path }, { hideWarnings: true });
  const prod = unstable_readConfig({ config: path, env: ENVIRONMENT }, { hideWarnings: true });
  const devNames = names(dev);
  const prodNames = names(prod);
  for (const entry of devNames) {
    if (!prodNames.has(entry) && !DEVELOPMENT_ONLY.has(entry)) {
      problems.push(`${file}: ${entry} is declared at the top level but not in [env.${ENVIRONMENT}]`);
    }
  }
  for (const entry of prodNames) {
    if (!devNames.has(entry))
      problems.push(`${file}: ${entry} is declared in [env.${ENVIRONMENT}] but not at the top level`);
  }
  if (prod.name !== dev.name) {
    problems.push(`${file}: [env.${ENVIRONMENT}] deploys as "${prod.name}", not "${dev.name}"`);
  }
  if (prod.vars?.ENVIRONMENT !== undefined && prod.vars.ENVIRONMENT !== ENVIRONMENT) {
    problems.push(`${file}: [env.${ENVIRONMENT}.vars] ENVIRONMENT is "${prod.vars.ENVIRONMENT}"`);
  }
}

if (problems.length > 0) {
  console.error(`wrangler configs disagree between development and ${ENVIRONMENT}:`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log(
  `wrangler configs: [env.${ENVIRONMENT}] declares every binding, var and secret (${WORKER_CONFIGS.length} Workers).`,
);
