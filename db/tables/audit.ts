import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One run of the invariant auditor (`workers/audit/`): the cron's and the admin's. `findings` is
 * the JSON list of discrepancies found, each with the ids needed to look into it or repair it.
 */
export const auditRuns = sqliteTable(
  "audit_runs",
  {
    id: text("id").primaryKey(),
    trigger: text("trigger", { enum: ["cron", "admin", "repair"] }).notNull(),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at").notNull(),
    skus: integer("skus").notNull(),
    discrepancies: integer("discrepancies").notNull(),
    findings: text("findings").notNull(),
  },
  (t) => [index("audit_runs_started_idx").on(t.startedAt)],
);
