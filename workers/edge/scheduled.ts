import type { AuditReport } from "../audit/schemas";
import { ORPHANED_HOLD_GRACE_MS, recordAudit, releaseOrphanedHolds, runAudit } from "../audit/service";
import { sweepCheckouts } from "../checkout/sweeper";
import { sweepOutbox } from "../events/outbox";
import { describeError, log } from "../lib/logging";

/** At most this many released reservation ids go into the log line (the count is always exact). */
const LOGGED_IDS = 50;

/**
 * Cron work, every minute: re-send outbox rows that missed their inline publish, finish
 * checkouts that never settled (the completion sweeper), run the invariant auditor and store
 * its findings, then release the orphaned holds it found (stock held for a cart that never
 * recorded it, e.g. after a crash between the grant and the cart's write). The audit judges
 * only activity past the orphaned-hold grace period, so its findings can be released as they
 * are, each re-checked with its cart first; every other kind of discrepancy waits for a person.
 * Each job runs even if another failed.
 */
export async function runScheduled(_controller: ScheduledController, env: Env): Promise<void> {
  await job("outbox_swept", async () => {
    const result = await sweepOutbox(env);
    return result.sent > 0 || result.pending > 0 ? result : null;
  });
  await job("checkouts_swept", async () => {
    const result = await sweepCheckouts(env);
    return result.checked > 0 ? result : null;
  });
  const audit: { id?: string; report?: AuditReport } = {};
  await job("audit_run", async () => {
    const started = Date.now();
    audit.report = await runAudit(env, { minAgeMs: ORPHANED_HOLD_GRACE_MS });
    audit.id = await recordAudit(env, "cron", audit.report, started);
    return { id: audit.id, skus: audit.report.skus.length, discrepancies: audit.report.discrepancies.length };
  });
  await job("orphaned_holds_released", async () => {
    if (!audit.report) return null;
    const actions = await releaseOrphanedHolds(env, audit.report);
    if (actions.length === 0) return null;
    const released = actions.filter((a) => a.result === "released_hold");
    const failed = actions.filter((a) => a.result === "failed");
    return {
      audit_id: audit.id,
      count: released.length,
      units: released.reduce((total, a) => total + (a.discrepancy.quantity ?? 0), 0),
      still_in_use: actions.filter((a) => a.result === "still_in_use").length,
      failed: failed.length,
      reservation_ids: released.slice(0, LOGGED_IDS).map((a) => a.discrepancy.reservation_id),
      ...(failed.length > 0 ? { first_error: failed[0]?.error } : {}),
    };
  });
}

async function job(name: string, work: () => Promise<object | null>): Promise<void> {
  try {
    const result = await work();
    if (result) log("info", name, { ...result });
  } catch (error) {
    log("error", `${name}_failed`, { ...describeError(error) });
  }
}
