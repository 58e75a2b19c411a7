import { readFile } from "node:fs/promises";
import { join } from "node:path";
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
