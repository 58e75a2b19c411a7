/**
 * Migrations are expand-then-contract: a release only adds (tables, nullable or defaulted
 * columns, indexes), so the previous release, still serving during a gradual rollout or after
 * a rollback, keeps working. Removing or renaming something is a contract step, allowed only
 * once no release that reads it can run: list it here with the release after which it is safe
 * (that release must have shipped, i.e. have committed fixtures, and must not use the thing any
 * more, which the replay of its D1 queries in test/compat-world.test.ts proves).
 * test/compat-migrations.test.ts refuses any contract statement not listed here.
 */
export interface ContractStep {
  /**
   * A D1 migration file (`0012_drop_legacy.sql`) or an object storage step
   * (`cart-storage#3`, `inventory-storage#4`, `waiting-room-storage#2`).
   */
  migration: string;
  /** Text the contract statement contains, e.g. `DROP COLUMN legacy_flags`. */
  statement: string;
  /** The last release that may still read what this removes. */
  safe_after_release: string;
  reason: string;
}

export const CONTRACT_STEPS: readonly ContractStep[] = [];

const CONTRACT = [/\bDROP\s+(TABLE|VIEW|COLUMN)\b/i, /\bALTER\s+TABLE\s+\S+\s+DROP\b/i, /\bRENAME\b/i];

/**
 * The statements of a migration that remove or rename something. drizzle-kit's SQLite table
 * rebuild (create `__new_x`, copy, `DROP TABLE x`, rename) counts: the old code may lose columns.
 */
export function contractStatements(sql: string): string[] {
  return sql
    .replace(/--[^\n]*/g, "")
    .split(/;|--> statement-breakpoint/)
    .map((statement) => statement.trim())
    .filter((statement) => CONTRACT.some((pattern) => pattern.test(statement)));
}
