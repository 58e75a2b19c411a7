import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateLocal, seedLocal } from "../../scripts/lib/local-d1.mjs";
import { startServer } from "../../scripts/lib/server.mjs";
import { ROOT } from "../../scripts/lib/wrangler.mjs";

/** The full-scope admin token every bench uses: ADMIN_TOKEN from the committed `.dev.vars.example`. */
export async function adminTokenFromExample() {
  const text = await readFile(join(ROOT, ".dev.vars.example"), "utf8");
  return /^ADMIN_TOKEN="?([^"\n]*)"?$/m.exec(text)?.[1] ?? "";
}

/**
 * The production bundle on Miniflare over a bench state directory, quiet, with the example
 * secrets (results never depend on local ones).
 * @param {{ state: string, port?: number, inspectorPort?: number }} options
 */
export function startBenchServer({ state, port = 0, inspectorPort }) {
  return startServer({
    port,
    persist: state,
    quiet: true,
    envFile: ".dev.vars.example",
    distDir: join(state, "dist"),
    ...(inspectorPort === undefined ? {} : { inspectorPort }),
  });
}

/**
 * A fresh temporary state directory, migrated and seeded with `products` demo products, for a
 * bench tool that serves its own state (the caller removes it).
 * @param {{ prefix: string, products: number, parent?: string }} options
 * @returns {Promise<string>} the state directory
 */
export async function seededBenchState({ prefix, products, parent = tmpdir() }) {
  const state = await mkdtemp(join(parent, `${prefix}-`));
  await migrateLocal({ persistTo: state });
  await seedLocal({ persistTo: state, products });
  return state;
}

/**
 * What `runStorm` needs to drive `server` outside `npm run bench`: no ceiling is measured,
 * so the storm reports wall time and counts but no cost ratios.
 * @param {{ url: URL }} server
 */
export async function stormContext(server) {
  return {
    url: server.url,
    fetch: (path, init) => fetch(new URL(path, server.url), init),
    adminToken: await adminTokenFromExample(),
    ceilingRps: null,
    ceilingCpuMs: null,
  };
}
