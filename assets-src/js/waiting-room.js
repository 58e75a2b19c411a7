// Flash-sale waiting room: joins the sale's line, reports the shopper's place as the API
// advises polling, and stores the admission token once admitted (api.js then sends it).
import { admissions, api, storeAdmission } from "./api.js";

const VISITOR_KEY = "popcart.visitor";
const RETRY_MS = 10_000;
const lines = new Map();

/** A random id kept per browser, so joining again (a refresh) returns the same place. */
function visitorId() {
  let id = localStorage.getItem(VISITOR_KEY);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(18));
    id = btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (ch) => ({ "+": "-", "/": "_" })[ch] ?? "");
    localStorage.setItem(VISITOR_KEY, id);
  }
  return id;
}

/**
 * Waits in `room`'s line. `onChange` gets `{ status: "waiting", position, wait }`, then
 * `{ status: "admitted", expires_at }`, or `{ status: "error", error }` (retried). Joining a room
 * already being waited in (or already admitted to) only reports the current state.
 */
export function joinLine(room, onChange) {
  const held = admissions()[room];
  if (held) {
    queueMicrotask(() => onChange({ status: "admitted", expires_at: held.expires_at }));
    return;
  }
  if (lines.has(room)) return;
  lines.set(room, true);
  const joinUrl = `/api/waiting-rooms/${encodeURIComponent(room)}/tickets`;
  const step = async (path, init) => {
    try {
      const ticket = await api(path, init);
      if (ticket.status === "admitted") {
        storeAdmission(room, ticket.admission_token, ticket.admission_expires_at);
        lines.delete(room);
        return onChange({ status: "admitted", expires_at: ticket.admission_expires_at });
      }
      if (ticket.status === "expired")
        return step(joinUrl, { method: "POST", body: { visitor_id: visitorId() } });
      onChange({ status: "waiting", position: ticket.position, wait: ticket.estimated_wait_seconds });
      setTimeout(() => step(ticket.status_url), ticket.poll_after_seconds * 1000);
    } catch (error) {
      onChange({ status: "error", error });
      setTimeout(() => step(joinUrl, { method: "POST", body: { visitor_id: visitorId() } }), RETRY_MS);
    }
  };
  step(joinUrl, { method: "POST", body: { visitor_id: visitorId() } });
}

/** Drops a stored admission the API no longer accepts, so the next `joinLine` queues again. */
export function forgetAdmission(room) {
  storeAdmission(room, null);
}

/** "You're 3rd in line, about 2 min" */
export function describePlace(position, waitSeconds) {
  const rule = new Intl.PluralRules("en", { type: "ordinal" }).select(position);
  const suffix = { one: "st", two: "nd", few: "rd" }[rule] ?? "th";
  const wait =
    waitSeconds == null
      ? ""
      : waitSeconds < 60
        ? ", less than a minute to wait"
        : `, about ${Math.round(waitSeconds / 60)} min`;
  return `You're ${position}${suffix} in line${wait}. Keep this page open: you'll be let in automatically.`;
}
