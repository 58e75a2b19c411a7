import { recordAudit, runAudit } from "../audit/service";
import { sweepCheckouts } from "../checkout/sweeper";
import { sweepOutbox } from "../events/outbox";
import { describeError, log } from "../lib/logging";

/**
 * Cron work, every minute: re-send outbox rows that missed their inline publish, finish
 * checkouts that never settled (the completion sweeper), then run the invariant auditor and
 * store its findings. Each job runs even if another failed.
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
  await job("audit_run", async () => {
    const started = Date.now();
    const report = await runAudit(env);
    const id = await recordAudit(env, "cron", report, started);
    return { id, skus: report.skus.length, discrepancies: report.discrepancies.length };
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
