import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { CartObject } from "../durable-objects/cart";
import type { InventoryObject } from "../durable-objects/inventory";
import type { WaitingRoomObject } from "../durable-objects/waiting-room";
import type { ReleaseManifest, StorageDump, StorageFixture } from "./release/fixture-format";
import type { D1Record, D1Statement, RpcRecord, SqlParam } from "./release/recorders";

type AnyObjectStub =
  | DurableObjectStub<CartObject>
  | DurableObjectStub<InventoryObject>
  | DurableObjectStub<WaitingRoomObject>;

/** One committed fixture set: a released version's artefacts (test/fixtures/releases/<release>/). */
export interface ReleaseFixtureSet {
  release: string;
  manifest: ReleaseManifest;
  events: unknown[];
  d1: D1Record[];
  rpc: RpcRecord[];
  storage: StorageFixture;
}

const load = <T>(files: Record<string, T>) =>
  new Map(Object.entries(files).map(([path, content]) => [path.split("/").at(-2) ?? path, content]));
const manifests = load(
  import.meta.glob<ReleaseManifest>("./fixtures/releases/*/manifest.json", {
    eager: true,
    import: "default",
  }),
);
const events = load(
  import.meta.glob<unknown[]>("./fixtures/releases/*/events.json", { eager: true, import: "default" }),
);
const d1 = load(
  import.meta.glob<D1Record[]>("./fixtures/releases/*/d1-queries.json", { eager: true, import: "default" }),
);
const rpc = load(
  import.meta.glob<RpcRecord[]>("./fixtures/releases/*/rpc-calls.json", { eager: true, import: "default" }),
);
const storage = load(
  import.meta.glob<StorageFixture>("./fixtures/releases/*/storage.json", { eager: true, import: "default" }),
);

const need = <T>(map: Map<string, T>, release: string, file: string): T => {
  const value = map.get(release);
  if (value === undefined) throw new Error(`test/fixtures/releases/${release}/${file} is missing`);
  return value;
};

/**
 * Every committed release's fixtures, oldest first. The suites run them all; the rules only
 * promise compatibility with the previous release, so older sets are pruned once contract
 * steps that break them ship (see test/fixtures/releases/README.md).
 */
export const RELEASES: ReleaseFixtureSet[] = [...manifests.keys()]
  .sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
  .map((release) => ({
    release,
    manifest: need(manifests, release, "manifest.json"),
    events: need(events, release, "events.json"),
    d1: need(d1, release, "d1-queries.json"),
    rpc: need(rpc, release, "rpc-calls.json"),
    storage: need(storage, release, "storage.json"),
  }));

const decode = (param: SqlParam): unknown =>
  param !== null && typeof param === "object"
    ? Uint8Array.from(atob(param.$bytes), (char) => char.charCodeAt(0))
    : param;

const prepare = (statement: D1Statement) =>
  env.DB.prepare(statement.sql).bind(...statement.params.map(decode));

export interface ReplayProblem {
  index: number;
  sql: string;
  problem: string;
}

/**
 * Runs a release's D1 calls, in their order, against the current schema. A call that worked
 * then must work now; a read must still return every column it returned then (old code
 * reads them by name). Calls that failed then are replayed too, keeping the data in step.
 */
export async function replayD1(records: D1Record[]): Promise<ReplayProblem[]> {
  const problems: ReplayProblem[] = [];
  for (const [index, record] of records.entries()) {
    const sql = record.kind === "batch" ? record.statements.map((s) => s.sql).join(";\n") : record.sql;
    try {
      if (record.kind === "batch") await env.DB.batch(record.statements.map(prepare));
      else if (record.kind === "exec") await env.DB.exec(record.sql);
      else {
        const { results } = await prepare(record).all<Record<string, unknown>>();
        const row = results[0];
        const missing = row && record.columns ? record.columns.filter((column) => !(column in row)) : [];
        if (missing.length > 0) problems.push({ index, sql, problem: `columns gone: ${missing.join(", ")}` });
      }
    } catch (error) {
      if (record.ok)
        problems.push({ index, sql, problem: error instanceof Error ? error.message : String(error) });
    }
  }
  return problems;
}

/** Columns holding epoch milliseconds: moved by the restore's time shift. */
const isTimestampColumn = (column: string) => column.endsWith("_at");

/**
 * Writes a stored object's tables and rows into a fresh object of the same name and evicts it,
 * so the next call wakes it with the current code (constructor, migrations and all); then sets
 * its alarm back. `shiftMs` is added to every timestamp and to the alarm: `now - captured_at`
 * wakes the object as if it had been captured a moment ago.
 */
export async function restoreObject(stub: AnyObjectStub, dump: StorageDump, shiftMs: number): Promise<void> {
  await runInDurableObject(stub, async (_instance, state) => {
    await state.storage.deleteAll();
    const sql = state.storage.sql;
    for (const table of dump.tables) {
      sql.exec(table.sql);
      for (const row of table.rows) {
        const columns = Object.keys(row);
        const values = columns.map((column) => {
          const value = row[column];
          return isTimestampColumn(column) && typeof value === "number" && value > 0
            ? value + shiftMs
            : value;
        });
        sql.exec(
          `INSERT INTO "${table.name}" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
          ...(values as SqlStorageValue[]),
        );
      }
    }
    for (const index of dump.indexes) sql.exec(index);
    await state.storage.deleteAlarm();
  });
  await evictDurableObject(stub);
  // The alarm goes back only after the wake, so it never fires on the un-migrated instance.
  const alarm = dump.alarm;
  if (alarm !== null) {
    await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(alarm + shiftMs));
  }
}

/** The storage schema version an object reports, whichever versioning table it uses. */
export async function storageVersion(stub: AnyObjectStub): Promise<number> {
  return runInDurableObject(stub, (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((table) => table.name);
    if (tables.includes("cart_schema")) {
      return state.storage.sql.exec<{ version: number }>("SELECT version FROM cart_schema").one().version;
    }
    return state.storage.sql.exec<{ v: number }>("SELECT MAX(version) AS v FROM _migrations").one().v;
  });
}
