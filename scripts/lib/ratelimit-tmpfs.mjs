import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { lstat, mkdir, rm, stat, symlink } from "node:fs/promises";
import { join, resolve } from "node:path";

const TMPFS = "/dev/shm";

/**
 * The machine's memory-backed directory (/dev/shm), or null where there is none.
 * @returns {Promise<string | null>}
 */
export async function tmpfsDir() {
  const found = await stat(TMPFS).then(
    (s) => s.isDirectory(),
    () => false,
  );
  return found ? TMPFS : null;
}

/**
 * Keeps Miniflare's rate-limit counters for a persisted state directory on tmpfs.
 *
 * Production's rate-limiting binding counts in memory at each Cloudflare location. Miniflare
 * simulates it with a SQLite Durable Object under `<persist>/v3/ratelimit` that commits, with
 * an fsync, on every `limit()` call: a cost production never pays, and in a 300-shopper storm
 * about a fifth of all the disk flushes (806 of 4,279, counted with `strace -f -e fsync`).
 * The counters only matter within their 10 or 60 s window, so local servers keep them in
 * memory-backed files instead: that directory becomes a link into /dev/shm, one directory per
 * state, kept across restarts of the same state (the crash harness) and removed by the returned
 * function. D1, KV and Durable Object storage stay on disk: their commits are real.
 *
 * A machine without /dev/shm keeps the counters on disk, as before.
 * @param {string} persist the state directory (`resourcePersistencePath` is `<persist>/v3`)
 * @returns {Promise<() => Promise<void>>} removes the tmpfs directory and the link
 */
export async function ratelimitCountersOnTmpfs(persist) {
  const tmpfs = await tmpfsDir();
  if (!tmpfs) return async () => {};
  const link = join(persist, "v3", "ratelimit");
  const id = createHash("sha256").update(resolve(persist)).digest("hex").slice(0, 16);
  const target = join(tmpfs, `popcart-ratelimit-${id}`);
  await mkdir(target, { recursive: true });
  const existing = await lstat(link).catch(() => null);
  if (!existing?.isSymbolicLink()) {
    // Counters from an older run on disk: windows of seconds, nothing worth keeping.
    if (existing) await rm(link, { recursive: true, force: true });
    await mkdir(join(persist, "v3"), { recursive: true });
    await symlink(target, link, "dir");
  }
  // Miniflare's own exit hook may end the process on Ctrl-C before an async clean-up runs.
  const dropNow = () => {
    rmSync(link, { force: true });
    rmSync(target, { recursive: true, force: true });
  };
  process.once("exit", dropNow);
  return async () => {
    process.removeListener("exit", dropNow);
    await rm(link, { force: true });
    await rm(target, { recursive: true, force: true });
  };
}

/**
 * Removes a link a server left behind when it was killed before its clean-up (or whose tmpfs
 * directory a reboot emptied): `wrangler dev` wants a directory of its own there, and a dangling
 * link would stop it from starting.
 * @param {string} persist the state directory
 */
export async function ratelimitCountersBackOnDisk(persist) {
  const link = join(persist, "v3", "ratelimit");
  const existing = await lstat(link).catch(() => null);
  if (existing?.isSymbolicLink()) await rm(link, { force: true });
}
