import { readdir, readFile } from "node:fs/promises";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The workerd processes this bench started (children of this Node process). */
export async function workerdPids() {
  const pids = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => null);
    if (!stat) continue;
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (comm === "workerd" && Number(fields[1]) === process.pid) pids.push(entry);
  }
  return pids;
}

/**
 * CPU milliseconds (user + system) workerd has used so far. On a shared machine wall-clock
 * rates swing with everyone else's load; CPU spent per request does not, so the storm also
 * reports its cost in the empty route's CPU per request.
 * @returns {Promise<number | null>} null off Linux
 */
export async function workerdCpuMs() {
  const pids = await workerdPids().catch(() => []);
  if (pids.length === 0) return null;
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * Resident memory of the workerd processes this bench started, in MiB (VmRSS).
 * @returns {Promise<number | null>} null off Linux
 */
export async function workerdRssMiB() {
  const pids = await workerdPids().catch(() => []);
  if (pids.length === 0) return null;
  let kib = 0;
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    kib += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return Math.round(kib / 1024);
}
