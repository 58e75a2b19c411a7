import { describe, expect, it } from "vitest";
import releaseState from "../release/state.json";
import pendingFixture from "../scripts/fixtures/wrangler.pending-do-migration.toml?raw";
import {
  DEFAULT_GATE,
  DEFAULT_STEPS,
  decideGate,
  errorRateSql,
  fillCommand,
  type GateObservation,
  parseDoMigrations,
  parseSteps,
  planRelease,
  type ReleaseOptions,
} from "../scripts/release-plan";
import wranglerToml from "../wrangler.toml?raw";

// The planner is pure, so it runs here in workerd with the rest of the suite (one vitest
// project, type-checked by test/tsconfig.json); release.mjs imports the same file under Node.
const OPTIONS: ReleaseOptions = {
  worker: "popcart",
  d1Binding: "DB",
  steps: DEFAULT_STEPS,
  tag: "2026.11.22",
  bakeSeconds: 120,
  gate: DEFAULT_GATE,
};

const CONFIG = `
name = "popcart"
[[durable_objects.bindings]]
name = "CART"
class_name = "CartObject"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["CartObject", "InventoryObject"] # the first classes
`;

const WITH_V2 = `${CONFIG}
[[migrations]]
tag = "v2"
new_sqlite_classes = [
  "WaitingRoomObject",
]
renamed_classes = [{ from = "CartObject", to = "ShopperCartObject" }]

[[queues.producers]]
binding = "X"
`;

describe("release planner", () => {
  it("plans migrations, upload, then each traffic step followed by a gate, ending at 100%", () => {
    const plan = planRelease(OPTIONS, parseDoMigrations(CONFIG), { last_do_migration_tag: "v1" });
    if (plan.mode !== "gradual") throw new Error(`expected a gradual plan, got ${plan.mode}`);
    expect(plan.steps.map((s) => ("percent" in s ? `${s.kind}@${s.percent}` : s.kind))).toEqual([
      "d1_migrations",
      "capture_previous",
      "upload",
      "deploy@1",
      "gate@1",
      "deploy@10",
      "gate@10",
      "deploy@50",
      "gate@50",
      "deploy@100",
      "gate@100",
      "record_state",
    ]);
    const commands = plan.steps.flatMap((s) => ("command" in s ? [s.command.join(" ")] : []));
    expect(commands[0]).toBe("npx wrangler d1 migrations apply DB --remote");
    expect(commands[2]).toBe("npx wrangler versions upload --tag 2026.11.22");
    expect(commands[3]).toContain("versions deploy {new}@1% {prev}@99% --yes");
    expect(commands[6]).toContain("versions deploy {new}@100% --yes");
    expect(fillCommand(plan.rollback, { new: "n", prev: "p" }).join(" ")).toContain(
      "versions deploy p@100% --yes",
    );
  });

  it("refuses a gradual rollout while a Durable Object class migration is pending", () => {
    const plan = planRelease(OPTIONS, parseDoMigrations(WITH_V2), { last_do_migration_tag: "v1" });
    if (plan.mode !== "refused") throw new Error("expected a refusal");
    expect(plan.pending.map((m) => m.tag)).toEqual(["v2"]);
    expect(plan.reason).toContain(
      "v2 (new SQLite classes WaitingRoomObject; renames CartObject→ShopperCartObject)",
    );
    expect(plan.reason).toContain("plain `wrangler deploy`");
    expect(plan.plainDeploy.map((c) => c.join(" "))).toEqual([
      "npx wrangler d1 migrations apply DB --remote",
      "npx wrangler deploy --tag 2026.11.22",
    ]);
  });

  it("targets the production environment in every command, the plain-deploy fallback included", () => {
    const production = { ...OPTIONS, environment: "production" };
    const gradual = planRelease(production, parseDoMigrations(CONFIG), { last_do_migration_tag: "v1" });
    if (gradual.mode !== "gradual") throw new Error("expected a gradual plan");
    const commands = [...gradual.steps.flatMap((s) => ("command" in s ? [s.command] : [])), gradual.rollback];
    expect(commands).toHaveLength(8);
    for (const command of commands) expect(command.join(" ")).toContain("--env production");
    const refused = planRelease(production, parseDoMigrations(WITH_V2), { last_do_migration_tag: "v1" });
    if (refused.mode !== "refused") throw new Error("expected a refusal");
    expect(refused.plainDeploy.map((c) => c.join(" "))).toEqual([
      "npx wrangler d1 migrations apply DB --remote --env production",
      "npx wrangler deploy --env production --tag 2026.11.22",
    ]);
  });

  it("plans a gradual release of the committed wrangler.toml from the committed release state", () => {
    // A new [[migrations]] tag goes out with a plain deploy, after which release/state.json records
    // it; until then `npm run release` refuses, and so does this test.
    const plan = planRelease(OPTIONS, parseDoMigrations(wranglerToml), releaseState);
    expect(plan.mode).toBe("gradual");
    const pending = planRelease(OPTIONS, parseDoMigrations(pendingFixture), releaseState);
    expect(pending.mode).toBe("refused");
  });

  it("refuses the very first release too: nothing is deployed to split traffic with", () => {
    const plan = planRelease(OPTIONS, parseDoMigrations(CONFIG), { last_do_migration_tag: null });
    expect(plan.mode).toBe("refused");
  });

  it("refuses to guess when the deployed tag is missing from the config", () => {
    expect(() => planRelease(OPTIONS, parseDoMigrations(CONFIG), { last_do_migration_tag: "v7" })).toThrow(
      /"v7" is not in wrangler.toml/,
    );
  });

  it("reads multi-line arrays, inline tables and comments in [[migrations]]", () => {
    expect(parseDoMigrations(WITH_V2)).toEqual([
      { tag: "v1", new_sqlite_classes: ["CartObject", "InventoryObject"] },
      {
        tag: "v2",
        new_sqlite_classes: ["WaitingRoomObject"],
        renamed_classes: [{ from: "CartObject", to: "ShopperCartObject" }],
      },
    ]);
    expect(() => parseDoMigrations('[[migrations]]\nnew_classes = ["A"]')).toThrow(/needs a tag/);
  });

  it("accepts only increasing integer steps that end at 100", () => {
    expect(parseSteps("5, 25,100")).toEqual([5, 25, 100]);
    expect(() => parseSteps("10,5,100")).toThrow(/increase/);
    expect(() => parseSteps("1,10,50")).toThrow(/last step must be 100/);
    expect(() => parseSteps("0,100")).toThrow(/1\.\.100/);
    expect(() => parseSteps("1.5,100")).toThrow(/1\.\.100/);
  });
});

describe("release gates", () => {
  const healthy: GateObservation = {
    health: { status: 200, versionId: "new" },
    expectedVersionId: "new",
    traffic: { newRequests: 1000, newErrors: 5, prevRequests: 9000, prevErrors: 40 },
  };

  it("continues when health answers from the new version and its error rate is normal", () => {
    const decision = decideGate(healthy, DEFAULT_GATE);
    expect(decision.action).toBe("continue");
    expect(decision.notes.join()).toContain("0.5% over 1000 requests");
  });

  it("rolls back when the new version's 5xx rate exceeds the threshold", () => {
    const decision = decideGate(
      { ...healthy, traffic: { newRequests: 1000, newErrors: 30, prevRequests: 9000, prevErrors: 40 } },
      DEFAULT_GATE,
    );
    expect(decision).toMatchObject({ action: "rollback", reasons: ["5xx rate 3% exceeds 2%"] });
  });

  it("rolls back on a jump relative to the previous version even under the absolute cap", () => {
    const decision = decideGate(
      { ...healthy, traffic: { newRequests: 1000, newErrors: 15, prevRequests: 9000, prevErrors: 0 } },
      DEFAULT_GATE,
    );
    expect(decision.action).toBe("rollback");
  });

  it("rolls back when /health fails or is answered by another version", () => {
    expect(decideGate({ ...healthy, health: { status: 503, versionId: "new" } }, DEFAULT_GATE).action).toBe(
      "rollback",
    );
    const wrong = decideGate({ ...healthy, health: { status: 200, versionId: "old" } }, DEFAULT_GATE);
    expect(wrong).toMatchObject({
      action: "rollback",
      reasons: ["health check reached version old, not new"],
    });
    const down = decideGate(
      { ...healthy, health: { status: null, versionId: null, error: "ECONNRESET" } },
      DEFAULT_GATE,
    );
    expect(down.action).toBe("rollback");
  });

  it("rolls back when the configured gate command fails", () => {
    expect(decideGate({ ...healthy, gateCommandExit: 3 }, DEFAULT_GATE)).toMatchObject({
      action: "rollback",
      reasons: ["gate command exited with 3"],
    });
  });

  it("treats too little traffic as inconclusive rather than failing", () => {
    const decision = decideGate(
      { ...healthy, traffic: { newRequests: 10, newErrors: 5, prevRequests: 100, prevErrors: 0 } },
      DEFAULT_GATE,
    );
    expect(decision.action).toBe("continue");
    expect(decision.notes.join()).toContain("inconclusive");
  });

  it("queries the error rate per version from the metrics dataset without injectable ids", () => {
    const sql = errorRateSql("popcart_metrics", ["abc-123", "x' OR 1=1 --"], 120);
    expect(sql).toContain("blob5 IN ('abc-123', 'xOR11--')");
    expect(sql).toContain("INTERVAL '120' SECOND");
    expect(sql).toContain("sumIf(_sample_interval * double1, double3 >= 500) AS errors");
  });
});
