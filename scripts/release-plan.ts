/**
 * Pure planning logic for `npm run release` (scripts/release.mjs): which commands a release
 * runs, whether a gradual rollout is allowed, and what to do when a gate fails. No I/O here,
 * so the same module runs under Node (type stripping) and inside workerd for the tests.
 */

/** One `[[migrations]]` entry of wrangler.toml: Durable Object class changes under a tag. */
export interface DoMigration {
  tag: string;
  new_classes?: string[];
  new_sqlite_classes?: string[];
  deleted_classes?: string[];
  renamed_classes?: { from: string; to: string }[];
  transferred_classes?: { from: string; from_script: string; to: string }[];
}

export interface ReleaseState {
  /** The last Durable Object migration tag a release applied (null before the first deploy). */
  last_do_migration_tag: string | null;
  /** The version serving 100% after the last successful release. */
  last_version_id?: string | null;
  released_at?: string | null;
}

export interface ReleaseOptions {
  worker: string;
  d1Binding: string;
  /**
   * The wrangler environment every command targets (`--env`), e.g. "production": its vars and
   * bindings, not the development top level, are what ships.
   */
  environment?: string;
  /** Traffic percentages for the new version, strictly increasing, ending at 100. */
  steps: number[];
  tag?: string;
  message?: string;
  /** Seconds to let traffic accumulate at each step before the gates run. */
  bakeSeconds: number;
  gate: GateThresholds;
}

export interface GateThresholds {
  /** Highest acceptable 5xx share of the new version's requests (0.02 = 2%). */
  maxErrorRate: number;
  /** Highest acceptable increase over the previous version's error rate (absolute). */
  maxErrorRateIncrease: number;
  /** Below this many requests the error-rate gate is inconclusive and does not fail. */
  minRequests: number;
}

/** A step of the plan. `command` is an argv array; `{new}` / `{prev}` are filled at run time. */
export type ReleaseStep =
  | { kind: "d1_migrations"; description: string; command: string[] }
  | { kind: "capture_previous"; description: string; command: string[] }
  | { kind: "upload"; description: string; command: string[] }
  | { kind: "deploy"; description: string; percent: number; command: string[] }
  | { kind: "gate"; description: string; percent: number; bakeSeconds: number }
  | { kind: "record_state"; description: string };

export type ReleasePlan =
  | { mode: "gradual"; steps: ReleaseStep[]; rollback: string[] }
  | { mode: "refused"; reason: string; pending: DoMigration[]; plainDeploy: string[][] };

export const DEFAULT_STEPS = [1, 10, 50, 100];

export const DEFAULT_GATE: GateThresholds = {
  maxErrorRate: 0.02,
  maxErrorRateIncrease: 0.01,
  minRequests: 50,
};

/** Parses `1,10,50,100`: integers, strictly increasing, within 1..100, ending at 100. */
export function parseSteps(text: string): number[] {
  const steps = text.split(",").map((part) => Number(part.trim()));
  for (const [i, step] of steps.entries()) {
    if (!Number.isInteger(step) || step < 1 || step > 100) {
      throw new Error(`invalid step "${text.split(",")[i]}": steps are integer percentages 1..100`);
    }
    const previous = steps[i - 1];
    if (previous !== undefined && step <= previous) throw new Error(`steps must increase: ${text}`);
  }
  if (steps.at(-1) !== 100) throw new Error(`the last step must be 100 (got ${text})`);
  return steps;
}

/**
 * Reads the `[[migrations]]` tables of a wrangler.toml. Only the subset wrangler configs use
 * there is supported: `key = "string"` and `key = [ … ]` arrays of strings or inline tables,
 * possibly spanning lines. Other tables are skipped.
 */
export function parseDoMigrations(toml: string): DoMigration[] {
  const migrations: DoMigration[] = [];
  let current: Record<string, unknown> | null = null;
  const lines = stripComments(toml).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line.startsWith("[")) {
      current = line === "[[migrations]]" ? {} : null;
      if (current) migrations.push(current as unknown as DoMigration);
      continue;
    }
    if (!current || line === "") continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    // Multi-line arrays: keep reading until the brackets balance.
    while (value.startsWith("[") && depth(value) > 0 && i + 1 < lines.length) {
      i++;
      value += ` ${(lines[i] ?? "").trim()}`;
    }
    current[key] = parseValue(value);
  }
  for (const m of migrations) {
    if (typeof m.tag !== "string" || m.tag === "") throw new Error("every [[migrations]] entry needs a tag");
  }
  return migrations;
}

function stripComments(toml: string): string {
  return toml
    .split("\n")
    .map((line) => {
      let inString = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (ch === '"' && line[i - 1] !== "\\") inString = !inString;
        if (ch === "#" && !inString) return line.slice(0, i);
      }
      return line;
    })
    .join("\n");
}

function depth(value: string): number {
  let d = 0;
  let inString = false;
  for (const ch of value) {
    if (ch === '"') inString = !inString;
    else if (!inString && (ch === "[" || ch === "{")) d++;
    else if (!inString && (ch === "]" || ch === "}")) d--;
  }
  return d;
}

// Converts the TOML value subset into JSON: quote bare inline-table keys and swap `=` for `:`.
function parseValue(value: string): unknown {
  const json = value
    .replace(/([{,]\s*)([A-Za-z_][A-Za-z0-9_-]*)\s*=/g, '$1"$2":')
    .replace(/,\s*([\]}])/g, "$1");
  try {
    return JSON.parse(json);
  } catch {
    throw new Error(`unsupported value in [[migrations]]: ${value}`);
  }
}

/**
 * The migrations declared after `appliedTag`. An unknown applied tag means the config and
 * the deployed script disagree about history, which is unsafe to guess about: it throws.
 */
export function pendingDoMigrations(migrations: DoMigration[], appliedTag: string | null): DoMigration[] {
  if (appliedTag === null) return migrations;
  const index = migrations.findIndex((m) => m.tag === appliedTag);
  if (index < 0) {
    throw new Error(
      `the deployed Durable Object migration tag "${appliedTag}" is not in wrangler.toml; ` +
        "restore the missing [[migrations]] entries before releasing",
    );
  }
  return migrations.slice(index + 1);
}

const describeMigration = (m: DoMigration): string => {
  const parts = [
    m.new_sqlite_classes?.length ? `new SQLite classes ${m.new_sqlite_classes.join(", ")}` : "",
    m.new_classes?.length ? `new classes ${m.new_classes.join(", ")}` : "",
    m.renamed_classes?.length
      ? `renames ${m.renamed_classes.map((r) => `${r.from}→${r.to}`).join(", ")}`
      : "",
    m.deleted_classes?.length ? `deletes ${m.deleted_classes.join(", ")}` : "",
    m.transferred_classes?.length ? `transfers ${m.transferred_classes.map((t) => t.to).join(", ")}` : "",
  ].filter(Boolean);
  return `${m.tag} (${parts.join("; ") || "no class changes"})`;
};

const wrangler = (...args: string[]) => ["npx", "wrangler", ...args];

/** The release plan for `migrations` given the last applied tag: gradual, or refused. */
export function planRelease(
  opts: ReleaseOptions,
  migrations: DoMigration[],
  state: ReleaseState,
): ReleasePlan {
  const env = opts.environment ? ["--env", opts.environment] : [];
  const labels = [
    ...(opts.tag ? ["--tag", opts.tag] : []),
    ...(opts.message ? ["--message", opts.message] : []),
  ];
  const d1 = wrangler("d1", "migrations", "apply", opts.d1Binding, "--remote", ...env);
  const pending = pendingDoMigrations(migrations, state.last_do_migration_tag);
  if (pending.length > 0) {
    return {
      mode: "refused",
      pending,
      reason:
        `Durable Object migration ${pending.map(describeMigration).join(", ")} is not applied yet. ` +
        "Class migrations change which classes exist for every object at once, so they cannot be split " +
        "across two versions: `wrangler versions upload` rejects them, and a gradual deployment would run " +
        "old code against migrated namespaces. Release this change with a plain `wrangler deploy`.",
      plainDeploy: [d1, wrangler("deploy", ...env, ...labels)],
    };
  }
  const steps: ReleaseStep[] = [
    {
      kind: "d1_migrations",
      description: "Apply D1 migrations (expand-only: the running version keeps working)",
      command: d1,
    },
    {
      kind: "capture_previous",
      description: "Record the version serving 100% now, the rollback target",
      command: wrangler("deployments", "status", "--json", ...env),
    },
    {
      kind: "upload",
      description: "Upload the new version without deploying it; capture its version id",
      command: wrangler("versions", "upload", ...env, ...labels),
    },
  ];
  for (const percent of opts.steps) {
    const specs = percent === 100 ? ["{new}@100%"] : [`{new}@${percent}%`, `{prev}@${100 - percent}%`];
    steps.push({
      kind: "deploy",
      percent,
      description: `Route ${percent}% of traffic to the new version`,
      command: wrangler(
        "versions",
        "deploy",
        ...specs,
        ...env,
        "--yes",
        "--message",
        `release ${opts.tag ?? "{new}"}: ${percent}%`,
      ),
    });
    steps.push({
      kind: "gate",
      percent,
      bakeSeconds: opts.bakeSeconds,
      description:
        `Wait ${opts.bakeSeconds}s, then check /health on the new version and its 5xx rate ` +
        `(max ${pct(opts.gate.maxErrorRate)}, at most +${pct(opts.gate.maxErrorRateIncrease)} over the previous version)`,
    });
  }
  steps.push({ kind: "record_state", description: "Write release/state.json (commit it)" });
  return {
    mode: "gradual",
    steps,
    rollback: wrangler(
      "versions",
      "deploy",
      "{prev}@100%",
      ...env,
      "--yes",
      "--message",
      "rollback: release failed",
    ),
  };
}

const pct = (ratio: number) => `${Math.round(ratio * 10000) / 100}%`;

/** What a gate observed for the new version (and, for comparison, the previous one). */
export interface GateObservation {
  health: { status: number | null; versionId: string | null; error?: string };
  expectedVersionId: string;
  /** Error-rate query results; null when no error-rate source is configured. */
  traffic: { newRequests: number; newErrors: number; prevRequests: number; prevErrors: number } | null;
  /** Exit code of the configured gate command, if any. */
  gateCommandExit?: number | null;
}

export type GateDecision =
  | { action: "continue"; notes: string[] }
  | { action: "rollback"; reasons: string[]; notes: string[] };

/** Decides whether a rollout may proceed after a step, or must roll back and why. */
export function decideGate(obs: GateObservation, thresholds: GateThresholds): GateDecision {
  const reasons: string[] = [];
  const notes: string[] = [];
  if (obs.health.status !== 200) {
    reasons.push(`health check answered ${obs.health.status ?? obs.health.error ?? "nothing"}, not 200`);
  } else if (obs.health.versionId !== obs.expectedVersionId) {
    reasons.push(`health check reached version ${obs.health.versionId}, not ${obs.expectedVersionId}`);
  }
  if (obs.traffic) {
    const { newRequests, newErrors, prevRequests, prevErrors } = obs.traffic;
    if (newRequests < thresholds.minRequests) {
      notes.push(`error rate inconclusive: ${newRequests} requests < ${thresholds.minRequests}`);
    } else {
      const rate = newErrors / newRequests;
      const prevRate = prevRequests > 0 ? prevErrors / prevRequests : 0;
      notes.push(`new version 5xx rate ${pct(rate)} over ${newRequests} requests; previous ${pct(prevRate)}`);
      if (rate > thresholds.maxErrorRate) {
        reasons.push(`5xx rate ${pct(rate)} exceeds ${pct(thresholds.maxErrorRate)}`);
      } else if (rate - prevRate > thresholds.maxErrorRateIncrease) {
        reasons.push(
          `5xx rate ${pct(rate)} is more than ${pct(thresholds.maxErrorRateIncrease)} above ${pct(prevRate)}`,
        );
      }
    }
  } else {
    notes.push("no error-rate source configured: health gate only");
  }
  if (obs.gateCommandExit !== undefined && obs.gateCommandExit !== null && obs.gateCommandExit !== 0) {
    reasons.push(`gate command exited with ${obs.gateCommandExit}`);
  }
  return reasons.length > 0 ? { action: "rollback", reasons, notes } : { action: "continue", notes };
}

/** Fills `{new}` / `{prev}` in a command. */
export function fillCommand(command: string[], ids: { new?: string; prev?: string }): string[] {
  return command.map((arg) =>
    arg.replaceAll("{new}", ids.new ?? "{new}").replaceAll("{prev}", ids.prev ?? "{prev}"),
  );
}

/** The Analytics Engine SQL the error-rate gate runs (dataset layout in workers/lib/metrics.ts). */
export function errorRateSql(dataset: string, versionIds: string[], sinceSeconds: number): string {
  const ids = versionIds.map((id) => `'${id.replaceAll(/[^0-9a-zA-Z_{}-]/g, "")}'`).join(", ");
  return [
    "SELECT blob5 AS version,",
    "  SUM(_sample_interval * double1) AS requests,",
    "  sumIf(_sample_interval * double1, double3 >= 500) AS errors",
    `FROM ${dataset}`,
    `WHERE index1 = 'request' AND blob5 IN (${ids})`,
    `  AND timestamp > NOW() - INTERVAL '${Math.max(1, Math.round(sinceSeconds))}' SECOND`,
    "GROUP BY version",
  ].join("\n");
}
