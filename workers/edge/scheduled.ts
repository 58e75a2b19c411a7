import { sweepOutbox } from "../events/outbox";
import { log } from "../lib/logging";

/** Cron work: re-send outbox rows that missed their inline publish. */
export async function runScheduled(_controller: ScheduledController, env: Env): Promise<void> {
  const result = await sweepOutbox(env);
  if (result.sent > 0 || result.pending > 0) log("info", "outbox_swept", result);
}
