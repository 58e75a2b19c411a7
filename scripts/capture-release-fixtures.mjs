#!/usr/bin/env node
// `npm run release:fixtures [-- --release 0.2.0]`: captures this release's compatibility fixtures
// (events as emitted, D1 queries, RPC arguments, object storage) into
// test/fixtures/releases/<release>/, for the NEXT release's compat tests to run against.
// Run it on the commit you release, commit the directory, then `npm run release`.
// See test/fixtures/releases/README.md.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./lib/wrangler.mjs";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const { values: args } = parseArgs({
  options: { release: { type: "string", default: pkg.version }, help: { type: "boolean", default: false } },
});
if (args.help) {
  console.log("npm run release:fixtures -- [--release <name>]   (default: package.json version)");
  process.exit(0);
}
if (!/^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/.test(args.release)) {
  console.error(`--release must be a plain version or tag (got ${args.release})`);
  process.exit(64);
}

const git = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" });
const dirty = spawnSync("git", ["status", "--porcelain", "--", "workers", "durable-objects", "db"], {
  cwd: ROOT,
  encoding: "utf8",
});
const commit = git.status === 0 ? git.stdout.trim() + (dirty.stdout.trim() ? "+uncommitted" : "") : null;
const dir = join(ROOT, "test", "fixtures", "releases", args.release);

console.log(
  `Capturing compatibility fixtures of release ${args.release} (${commit ?? "no git"}) into ${dir}`,
);
const result = spawnSync(
  process.execPath,
  [join(ROOT, "node_modules", "vitest", "vitest.mjs"), "run", "--config", "vitest.release.config.ts"],
  {
    cwd: ROOT,
    stdio: "inherit",
    env: {
      ...process.env,
      POPCART_RELEASE: args.release,
      POPCART_COMMIT: commit ?? "",
      POPCART_FIXTURES_DIR: dir,
    },
  },
);
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(`Commit ${dir} with the release; the next release's compat tests run against it.`);
