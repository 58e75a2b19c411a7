/**
 * Brings a Durable Object's SQLite schema up to date on wake: each step (a list of statements)
 * runs once, in its own transaction, recorded in `_migrations`. An object asleep through
 * several releases runs every step it missed, in order, before serving anything.
 * `appliedBefore`: how many steps an older record (another table) says already ran.
 */
export function applyStorageMigrations(
  storage: DurableObjectStorage,
  migrations: readonly (readonly string[])[],
  options: { appliedBefore?: number } = {},
): void {
  const sql = storage.sql;
  sql.exec(
    "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
  );
  const recorded = sql.exec<{ v: number | null }>("SELECT MAX(version) AS v FROM _migrations").one().v ?? 0;
  // Steps an object ran before it recorded them here (see migrateCartStorage).
  const current = Math.max(recorded, options.appliedBefore ?? 0);
  migrations.slice(current).forEach((statements, index) => {
    storage.transactionSync(() => {
      for (const statement of statements) sql.exec(statement);
      sql.exec(
        "INSERT INTO _migrations (version, applied_at) VALUES (?, ?)",
        current + index + 1,
        Date.now(),
      );
    });
  });
}
