/**
 * The admission schedule of a waiting room: a pure function of the stored state and the clock.
 *
 * Tickets are numbered 1, 2, 3 … as visitors join; every ticket with `seq <= admitted` is
 * admitted (the frontier). Admissions use "slots": slot `i` of the current segment falls at
 * `baseAt + ceil(i * 60000 / rate)`, so under continuous demand exactly `rate` tickets are
 * admitted per minute, in ticket order, and no 60-second window ever holds more than `rate`
 * slots (slots `j` and `j + rate` are at least 60 000 ms apart). A slot that passes while nobody
 * waits is lost rather than banked: the next visitor to join into an empty queue starts a new
 * segment at that instant. A quiet hour therefore never turns into a burst of admissions.
 *
 * Nothing runs on a timer: the room object advances the frontier lazily on every call.
 */
export interface Schedule {
  /** Tickets issued so far (the highest `seq`). */
  issued: number;
  /** The admitted frontier: tickets `1..admitted` are admitted. */
  admitted: number;
  /** When slot 0 of the current segment falls (ms since the epoch); never before the opening. */
  baseAt: number;
  /** Slots of the current segment already given to tickets. */
  slotsUsed: number;
  /** When the most recently used slot fell (null before the first admission). */
  lastSlotAt: number | null;
  /** Admissions per minute. */
  ratePerMinute: number;
}

const MINUTE_MS = 60_000;

/** Highest admission rate a room accepts; keeps `elapsed * rate` exact in a double for years. */
export const MAX_RATE_PER_MINUTE = 60_000;

/** When slot `index` of the current segment falls. */
export const slotTime = (s: Schedule, index: number): number =>
  s.baseAt + Math.ceil((index * MINUTE_MS) / s.ratePerMinute);

/** Slots of the current segment that have fallen by `now` (0 before `baseAt`). */
const slotsDue = (s: Schedule, now: number): number =>
  now < s.baseAt ? 0 : Math.floor(((now - s.baseAt) * s.ratePerMinute) / MINUTE_MS) + 1;

/**
 * Admits every waiting ticket whose slot has fallen by `now`. Returns the new schedule and the
 * slot index given to the first newly admitted ticket (the rest follow consecutively).
 */
export function advance(
  s: Schedule,
  now: number,
): { schedule: Schedule; admitted: number; firstSlot: number } {
  const waiting = s.issued - s.admitted;
  const count = Math.max(0, Math.min(waiting, slotsDue(s, now) - s.slotsUsed));
  if (count === 0) return { schedule: s, admitted: 0, firstSlot: s.slotsUsed };
  return {
    schedule: {
      ...s,
      admitted: s.admitted + count,
      slotsUsed: s.slotsUsed + count,
      lastSlotAt: slotTime(s, s.slotsUsed + count - 1),
    },
    admitted: count,
    firstSlot: s.slotsUsed,
  };
}

/**
 * Issues the next ticket at `now`. Into an empty queue whose next slot has already passed, a
 * new segment starts now (unused slots are not banked). Call `advance` first.
 */
export function issue(s: Schedule, now: number): Schedule {
  const idle = s.issued === s.admitted && slotTime(s, s.slotsUsed) < now;
  const base = idle ? { ...s, baseAt: now, slotsUsed: 0 } : s;
  return { ...base, issued: s.issued + 1 };
}

/**
 * Changes the rate and/or the opening time at `now` (call `advance` first). Admissions already
 * made stand and keep their order; the new segment starts one new interval after the last
 * admission, at the opening, or now, whichever is latest.
 */
export function reconfigure(
  s: Schedule,
  now: number,
  change: { ratePerMinute: number; opensAt: number | null },
): Schedule {
  const spaced = s.lastSlotAt === null ? now : s.lastSlotAt + Math.ceil(MINUTE_MS / change.ratePerMinute);
  return {
    ...s,
    ratePerMinute: change.ratePerMinute,
    baseAt: Math.max(now, spaced, change.opensAt ?? now),
    slotsUsed: 0,
  };
}

/** A fresh room's schedule: nothing issued, slot 0 at the opening (or now). */
export const initialSchedule = (now: number, ratePerMinute: number, opensAt: number | null): Schedule => ({
  issued: 0,
  admitted: 0,
  baseAt: Math.max(now, opensAt ?? now),
  slotsUsed: 0,
  lastSlotAt: null,
  ratePerMinute,
});

/**
 * When a waiting ticket's slot falls under the current rate (exact unless the rate or the
 * opening changes). Call `advance` first; `seq` must be above the frontier.
 */
export const admissionTime = (s: Schedule, seq: number): number =>
  slotTime(s, s.slotsUsed + (seq - s.admitted - 1));
