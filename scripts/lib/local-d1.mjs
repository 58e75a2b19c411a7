import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { seedSql } from "../../db/seed.ts";
import { seedRegionSql } from "../../db/seed-regions.ts";
import { ROOT, runWrangler, WORKER_CONFIGS } from "./wrangler.mjs";

/** Where `wrangler dev` keeps local state; every script defaults to it so they share one database. */
export const DEFAULT_PERSIST = join(ROOT, ".wrangler", "state");

// wrangler reads a whole --file into memory; ~25 MB files keep a 100 000-product seed flat.
const MAX_FILE_BYTES = 25_000_000;

const persistArgs = (persistTo) => ["-c", WORKER_CONFIGS[0], "--local", "--persist-to", persistTo];

/**
 * Applies pending D1 migrations to the local database (`wrangler d1 migrations apply`),
 * exactly as for a remote one, so local and remote schemas never diverge.
 * @param {{ persistTo?: string, quiet?: boolean }} [options]
 */
export async function migrateLocal({ persistTo = DEFAULT_PERSIST, quiet = true } = {}) {
  await runWrangler(["d1", "migrations", "apply", "DB", ...persistArgs(persistTo)], { quiet });
}

/**
 * Writes the deterministic demo catalog into the local D1 database. Idempotent: fixed ids
 * and `ON CONFLICT DO NOTHING`, so re-running adds nothing and keeps local edits.
 * @param {{ persistTo?: string, products?: number, seed?: number, quiet?: boolean }} [options]
 * @returns {Promise<{ files: number, bytes: number }>}
 */
export async function seedLocal({
  persistTo = DEFAULT_PERSIST,
  products = 200,
  seed = 1,
  quiet = true,
} = {}) {
  const dir = join(persistTo, "seed-sql");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let files = 0;
  let bytes = 0;
  let pending = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const file = join(dir, `seed-${String(files).padStart(4, "0")}.sql`);
    await writeFile(file, pending.join("\n"));
    pending = [];
    pendingBytes = 0;
    files++;
    await runWrangler(["d1", "execute", "DB", ...persistArgs(persistTo), "--file", file], {
      quiet,
    });
  };
  // Regions, VAT and US state rates, shipping options (migration 0012 inserts the same rows).
  const statements = [...seedRegionSql(Date.UTC(2026, 0, 1))];
  for (const sql of [...statements, ...seedSql({ products, seed })]) {
    pending.push(sql);
    pendingBytes += sql.length;
    bytes += sql.length;
    if (pendingBytes >= MAX_FILE_BYTES) await flush();
  }
  await flush();
  await rm(dir, { recursive: true, force: true });
  return { files, bytes };
}
