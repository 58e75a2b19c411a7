import type { RoomStats, StatsResult, TicketState } from "../../durable-objects/waiting-room";
import { sha256Hex } from "../lib/crypto";
import { joinPath } from "./admission";
import { TICKET_PATTERN, type TicketView } from "./schemas";
import { signAdmission } from "./token";

/** The room's object: `room:<name>`, one per waiting room. */
export const roomStub = (env: Env, room: string) => env.WAITING_ROOM.getByName(`room:${room}`);

/** Creates or reconfigures a room. */
export function configureRoom(
  env: Env,
  input: { room: string; admitPerMinute: number; tokenTtlSeconds: number; opensAt: number | null },
): Promise<RoomStats> {
  return roomStub(env, input.room).configure(input);
}

/** A room's settings and live counts. */
export function roomStatus(env: Env, room: string): Promise<StatsResult> {
  return roomStub(env, room).status();
}

export type TicketOutcome =
  | { ok: true; ticket: TicketView; created: boolean }
  | { ok: false; reason: "room_not_found" | "ticket_not_found" };

/**
 * Joins `room`. With a visitor id (hashed before it reaches the room) joining is idempotent;
 * without one every call is a new place at the back.
 */
export async function joinRoom(
  env: Env,
  input: { room: string; visitorId?: string; secret: string },
): Promise<TicketOutcome> {
  const visitor = input.visitorId ? await sha256Hex(`visitor:${input.visitorId}`) : null;
  const result = await roomStub(env, input.room).join({ visitor });
  if (!result.ok) return result;
  return { ok: true, ticket: await ticketView(result.ticket, input.secret), created: result.created };
}

/** A ticket's status; an admitted ticket comes with its signed admission token. */
export async function ticketStatus(
  env: Env,
  input: { room: string; ticket: string; secret: string },
): Promise<TicketOutcome> {
  if (!TICKET_PATTERN.test(input.ticket)) return { ok: false, reason: "ticket_not_found" };
  const result = await roomStub(env, input.room).ticket(input.ticket);
  if (!result.ok) return result;
  return { ok: true, ticket: await ticketView(result.ticket, input.secret), created: false };
}

/**
 * How long to wait before polling again: exactly the remaining wait when admission is close,
 * a third of it further out (capped at a minute), so a long line polls rarely and a visitor
 * is still let in within seconds of their slot.
 */
export function pollAfterSeconds(waitSeconds: number): number {
  if (waitSeconds <= 5) return Math.max(1, waitSeconds);
  return Math.min(60, Math.max(5, Math.ceil(waitSeconds / 3)));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

async function ticketView(state: TicketState, secret: string, now = Date.now()): Promise<TicketView> {
  const waiting = state.status === "waiting" && state.estimated_admission_at !== null;
  const wait = waiting ? Math.max(0, Math.ceil(((state.estimated_admission_at ?? now) - now) / 1000)) : null;
  const token =
    state.status === "admitted" && state.expires_at !== null
      ? await signAdmission(secret, { room: state.room, ticket: state.ticket, expires_at: state.expires_at })
      : null;
  return {
    ticket: state.ticket,
    room: state.room,
    status: state.status,
    position: state.position,
    estimated_wait_seconds: wait,
    poll_after_seconds: wait === null ? null : pollAfterSeconds(wait),
    admission_token: token,
    admission_expires_at: state.status === "waiting" ? null : iso(state.expires_at),
    admitted_at: iso(state.admitted_at),
    joined_at: new Date(state.joined_at).toISOString(),
    status_url: `${joinPath(state.room)}/${state.ticket}`,
  };
}
