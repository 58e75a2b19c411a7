/**
 * Which version of each event type producers emit now (`current`) and the oldest one consumers
 * still accept (`oldest`). The compatibility rule: a consumer of version N accepts N-1, so a
 * bump sets `current` to N and leaves `oldest` at N-1 for at least one release; raising
 * `oldest` is a contract step, allowed once the release that last emitted N-1 is gone.
 * test/compat-events.test.ts runs the previous release's event fixtures against these.
 */
export const EVENT_VERSIONS = {
  "order.placed": { current: 1, oldest: 1 },
  "order.paid": { current: 1, oldest: 1 },
  "order.cancelled": { current: 1, oldest: 1 },
  "order.refunded": { current: 1, oldest: 1 },
  "fulfilment.fulfilling": { current: 1, oldest: 1 },
  "fulfilment.shipped": { current: 1, oldest: 1 },
  "fulfilment.delivered": { current: 1, oldest: 1 },
  "catalog.changed": { current: 1, oldest: 1 },
  "inventory.level": { current: 1, oldest: 1 },
} as const satisfies Record<string, { current: number; oldest: number }>;

export type EventType = keyof typeof EVENT_VERSIONS;

/** How long a consumer waits before offering a newer event to another (hopefully newer) version. */
export const NEWER_EVENT_RETRY_SECONDS = 30;

export type VersionVerdict =
  | { action: "parse" }
  | { action: "retry"; reason: string }
  | { action: "dead_letter"; reason: string };

/**
 * Judges an event's `type` and `version` before its schema. During a gradual rollout a newer
 * producer's events can reach an older consumer: a version (or type) this consumer does not
 * know is retried, not dropped, so a newer consumer gets to handle it (and if none does, it
 * is dead-lettered with this reason once the attempts are used, ready to replay). A version
 * older than `oldest` can never be handled again: dead-letter it at once. Anything without a
 * string `type` and integer `version` is left to the schema, which rejects it.
 */
export function judgeEventVersion(body: unknown, handles: readonly EventType[]): VersionVerdict {
  if (typeof body !== "object" || body === null) return { action: "parse" };
  const { type, version } = body as { type?: unknown; version?: unknown };
  if (typeof type !== "string" || typeof version !== "number" || !Number.isInteger(version)) {
    return { action: "parse" };
  }
  const range = (handles as readonly string[]).includes(type) ? EVENT_VERSIONS[type as EventType] : null;
  if (!range) {
    return {
      action: "retry",
      reason: `event type ${type} (v${version}) is unknown to this consumer version; retrying for a newer one`,
    };
  }
  if (version > range.current) {
    return {
      action: "retry",
      reason: `${type} v${version} is newer than this consumer (accepts v${range.oldest}-v${range.current}); retrying for a newer one`,
    };
  }
  if (version < range.oldest) {
    return {
      action: "dead_letter",
      reason: `${type} v${version} is retired (this consumer accepts v${range.oldest}-v${range.current})`,
    };
  }
  return { action: "parse" };
}
