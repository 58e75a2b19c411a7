#!/usr/bin/env node
// `npm run release [-- --dry-run]`: D1 migrations, version upload, gradual deployment with
// health and error-rate gates, rollback on failure. Planning lives in release-plan.ts (tested);
// this file only runs commands, polls and prints. See README.md#releasing.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  DEFAULT_GATE,
  DEFAULT_STEPS,
  decideGate,
  errorRateSql,
  fillCommand,
  parseDoMigrations,
  parseSteps,
  planRelease,
} from "./release-plan.ts";

const { values: args } = parseArgs({
  options: {
    "dry-run": { type: "boolean", default: false },
    config: { type: "string", default: "wrangler.toml" },
    env: { type: "string", default: "production" },
    state: { type: "string", default: "release/state.json" },
    steps: { type: "string", default: DEFAULT_STEPS.join(",") },
    tag: { type: "string" },
    message: { type: "string" },
    "bake-seconds": { type: "string", default: "120" },
    url: { type: "string", default: process.env.RELEASE_URL },
    "gate-cmd": { type: "string", default: process.env.RELEASE_GATE_CMD },
    "max-error-rate": { type: "string", default: String(DEFAULT_GATE.maxErrorRate) },
    "max-error-rate-increase": { type: "string", default: String(DEFAULT_GATE.maxErrorRateIncrease) },
    "min-requests": { type: "string", default: String(DEFAULT_GATE.minRequests) },
    dataset: { type: "string", default: "popcart_metrics" },
    help: { type: "boolean", default: false },
  },
});

if (args.help) {
  console.log(`npm run release -- [--dry-run] [--steps 1,10,50,100] [--tag T] [--message M]
  [--url https://shop.example.com] [--bake-seconds 120] [--gate-cmd "<shell>"]
  [--max-error-rate 0.02] [--max-error-rate-increase 0.01] [--min-requests 50]
  [--config wrangler.toml] [--env production] [--state release/state.json]
Error-rate gate: Analytics Engine SQL API when CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are set.`);
  process.exit(0);
}

const dryRun = args["dry-run"];
for (const name of ["bake-seconds", "max-error-rate", "max-error-rate-increase", "min-requests"]) {
  if (!Number.isFinite(Number(args[name])) || Number(args[name]) < 0) {
    console.error(`--${name} must be a non-negative number (got ${args[name]})`);
    process.exit(64);
  }
}
const toml = readFileSync(args.config, "utf8");
const worker = /^name\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? "popcart";
const state = JSON.parse(readFileSync(args.state, "utf8"));
const account = process.env.CLOUDFLARE_ACCOUNT_ID;
const token = process.env.CLOUDFLARE_API_TOKEN;
const gate = {
  maxErrorRate: Number(args["max-error-rate"]),
  maxErrorRateIncrease: Number(args["max-error-rate-increase"]),
  minRequests: Number(args["min-requests"]),
};

// The deployed script's migration tag is the truth when we can ask for it; the committed
// state file is the fallback (and what a dry run without credentials uses).
async function appliedTag() {
  if (!account || !token) return { tag: state.last_do_migration_tag, source: args.state };
  const res = await fetch(
    `https://api.cloudflare.com/client/v4/accounts/${account}/workers/services/${worker}`,
    {
      headers: { authorization: `Bearer ${token}` },
    },
  );
  if (res.status === 404) return { tag: null, source: "Cloudflare API (worker not deployed yet)" };
  if (!res.ok) throw new Error(`Cloudflare API answered ${res.status} reading ${worker}`);
  const body = await res.json();
  return { tag: body.result?.default_environment?.script?.migration_tag ?? null, source: "Cloudflare API" };
}

const applied = await appliedTag();
const plan = planRelease(
  {
    worker,
    d1Binding: "DB",
    environment: args.env || undefined,
    steps: parseSteps(args.steps),
    tag: args.tag,
    message: args.message,
    bakeSeconds: Number(args["bake-seconds"]),
    gate,
  },
  parseDoMigrations(toml),
  { ...state, last_do_migration_tag: applied.tag },
);

console.log(
  `Release of ${worker} to [env.${args.env}] (${dryRun ? "dry run" : "live"}); applied DO migration tag: ${applied.tag ?? "none"} (from ${applied.source})`,
);

if (plan.mode === "refused") {
  console.error(`\nREFUSED: gradual rollout not possible.\n${plan.reason}\n\nRelease it with:`);
  for (const command of plan.plainDeploy) console.error(`  ${command.join(" ")}`);
  const last = plan.pending.at(-1)?.tag;
  console.error(`then set "last_do_migration_tag": "${last}" in ${args.state} and commit it.`);
  process.exit(2);
}

// The next release's compatibility tests run against this release's fixtures, so a release
// without them would leave the next one unguarded (test/fixtures/releases/README.md).
const releaseName = args.tag ?? JSON.parse(readFileSync("package.json", "utf8")).version;
const fixturesManifest = join("test", "fixtures", "releases", releaseName, "manifest.json");
const fixtures = existsSync(fixturesManifest) ? JSON.parse(readFileSync(fixturesManifest, "utf8")) : null;
const captureHint = `npm run release:fixtures -- --release ${releaseName}`;
if (fixtures) {
  console.log(
    `Compatibility fixtures: ${fixturesManifest} (captured from ${fixtures.commit ?? "unknown commit"})`,
  );
} else if (dryRun) {
  console.log(
    `Compatibility fixtures MISSING for ${releaseName}: run \`${captureHint}\` and commit them (a live release refuses without them)`,
  );
} else {
  console.error(
    `\nREFUSED: no compatibility fixtures for ${releaseName} (${fixturesManifest}).\nRun \`${captureHint}\` on this commit, commit the directory, then release.`,
  );
  process.exit(2);
}

const show = (command) =>
  command.map((a) => (/[\s%{}]/.test(a) && !/^\{\w+\}@\d+%$/.test(a) ? JSON.stringify(a) : a)).join(" ");
const errorSource =
  account && token
    ? `Analytics Engine SQL API (dataset ${args.dataset})`
    : "not configured (set CLOUDFLARE_ACCOUNT_ID + CLOUDFLARE_API_TOKEN, or pass --gate-cmd)";

if (dryRun) {
  console.log("\nPlan:");
  for (const [i, step] of plan.steps.entries()) {
    const detail = "command" in step ? `\n     $ ${show(step.command)}` : "";
    console.log(`  ${String(i + 1).padStart(2)}. ${step.description}${detail}`);
    if (step.kind === "gate") {
      console.log(
        `     GET ${args.url ?? "<--url>"}/health with Cloudflare-Workers-Version-Overrides: ${worker}="{new}" → 200 and version.id == {new}`,
      );
      console.log(
        `     error rate: ${errorSource}${args["gate-cmd"] ? `; gate command: ${args["gate-cmd"]}` : ""}`,
      );
    }
  }
  console.log(`\nOn a failed gate: $ ${show(plan.rollback)}`);
  console.log(
    `Error-rate SQL (per version, last ${args["bake-seconds"]}s):\n${errorRateSql(args.dataset, ["{new}", "{prev}"], Number(args["bake-seconds"]))}`,
  );
  process.exit(0);
}

if (!args.url)
  throw new Error("--url (or RELEASE_URL) is required for a live release: the gates poll its /health");

function run(command, extraEnv = {}) {
  console.log(`$ ${show(command)}`);
  const [bin, ...rest] = command;
  const result = spawnSync(bin, rest, {
    stdio: ["inherit", "inherit", "inherit"],
    env: { ...process.env, ...extraEnv },
  });
  if (result.status !== 0) throw new Error(`command failed (${result.status}): ${show(command)}`);
}

function runCapture(command) {
  console.log(`$ ${show(command)}`);
  const [bin, ...rest] = command;
  const result = spawnSync(bin, rest, { encoding: "utf8", stdio: ["inherit", "pipe", "inherit"] });
  if (result.status !== 0) throw new Error(`command failed (${result.status}): ${show(command)}`);
  return result.stdout;
}

async function health(versionId) {
  try {
    const res = await fetch(`${args.url}/health`, {
      headers: {
        "Cloudflare-Workers-Version-Overrides": `${worker}="${versionId}"`,
        "cache-control": "no-cache",
      },
    });
    const body = await res.json().catch(() => ({}));
    return { status: res.status, versionId: body?.version?.id ?? res.headers.get("x-popcart-version") };
  } catch (error) {
    return { status: null, versionId: null, error: String(error) };
  }
}

async function traffic(ids) {
  if (!account || !token) return null;
  const res = await fetch(`https://api.cloudflare.com/client/v4/accounts/${account}/analytics_engine/sql`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: errorRateSql(args.dataset, [ids.new, ids.prev], Number(args["bake-seconds"])),
  });
  if (!res.ok) throw new Error(`Analytics Engine SQL API answered ${res.status}`);
  const rows = (await res.json()).data ?? [];
  const row = (id) => rows.find((r) => r.version === id) ?? { requests: 0, errors: 0 };
  return {
    newRequests: Number(row(ids.new).requests),
    newErrors: Number(row(ids.new).errors),
    prevRequests: Number(row(ids.prev).requests),
    prevErrors: Number(row(ids.prev).errors),
  };
}

const ids = {};
// Set once traffic has moved: from then on any failure must put the previous version back.
let trafficMoved = false;
try {
  for (const step of plan.steps) {
    console.log(`\n== ${step.description}`);
    if (step.kind === "d1_migrations") run(step.command);
    else if (step.kind === "capture_previous") {
      const status = JSON.parse(runCapture(step.command));
      const versions = status.versions ?? status[0]?.versions ?? [];
      const full = versions.find((v) => Number(v.percentage) === 100) ?? versions[0];
      ids.prev = full?.version_id;
      if (!ids.prev)
        throw new Error("could not find the currently deployed version (first release? use wrangler deploy)");
      console.log(`previous version: ${ids.prev}`);
    } else if (step.kind === "upload") {
      // wrangler writes machine-readable results to WRANGLER_OUTPUT_FILE_PATH (ND-JSON).
      const output = join(mkdtempSync(join(tmpdir(), "popcart-release-")), "wrangler-output.json");
      run(step.command, { WRANGLER_OUTPUT_FILE_PATH: output });
      const entries = readFileSync(output, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      ids.new = entries.find((e) => e.type === "version-upload")?.version_id;
      if (!ids.new) throw new Error("wrangler versions upload did not report a version id");
      console.log(`new version: ${ids.new}`);
    } else if (step.kind === "deploy") {
      trafficMoved = true;
      run(fillCommand(step.command, ids));
    } else if (step.kind === "gate") {
      await new Promise((resolve) => setTimeout(resolve, step.bakeSeconds * 1000));
      const gateCommandExit = args["gate-cmd"]
        ? spawnSync("sh", ["-c", args["gate-cmd"]], {
            stdio: "inherit",
            env: {
              ...process.env,
              NEW_VERSION_ID: ids.new,
              PREVIOUS_VERSION_ID: ids.prev,
              PERCENT: String(step.percent),
            },
          }).status
        : undefined;
      const decision = decideGate(
        {
          health: await health(ids.new),
          expectedVersionId: ids.new,
          traffic: await traffic(ids),
          gateCommandExit,
        },
        gate,
      );
      for (const note of decision.notes) console.log(`  ${note}`);
      if (decision.action === "rollback") {
        console.error(`GATE FAILED at ${step.percent}%: ${decision.reasons.join("; ")}. Rolling back.`);
        run(fillCommand(plan.rollback, ids));
        process.exit(1);
      }
      console.log(`  gate passed at ${step.percent}%`);
    } else if (step.kind === "record_state") {
      const tags = parseDoMigrations(toml).map((m) => m.tag);
      const next = {
        ...state,
        last_do_migration_tag: tags.at(-1) ?? null,
        last_version_id: ids.new,
        released_at: new Date().toISOString(),
      };
      writeFileSync(args.state, `${JSON.stringify(next, null, 2)}\n`);
      console.log(`wrote ${args.state}: commit it`);
    }
  }
} catch (error) {
  console.error(`\nRELEASE FAILED: ${error instanceof Error ? error.message : error}`);
  if (trafficMoved) {
    console.error("Traffic had moved to the new version: rolling back.");
    run(fillCommand(plan.rollback, ids));
  }
  process.exit(1);
}
console.log(`\nReleased ${ids.new} to 100%.`);
