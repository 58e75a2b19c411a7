import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ADMIN, call, callJson } from "./helpers";

export interface TicketBody {
  ticket: string;
  room: string;
  status: "waiting" | "admitted" | "expired";
  position: number;
  estimated_wait_seconds: number | null;
  poll_after_seconds: number | null;
  admission_token: string | null;
  admission_expires_at: string | null;
  admitted_at: string | null;
  joined_at: string;
  status_url: string;
}

/** A room name no other test uses. */
export const randomRoom = (label = "ROOM") => `${label}-${crypto.randomUUID().slice(0, 12)}`;
export const randomVisitor = () => crypto.randomUUID().replaceAll("-", "");

export const roomObject = (room: string) => env.WAITING_ROOM.getByName(`room:${room}`);

/** Creates or reconfigures a room through the admin API. */
export async function setUpRoom(
  room: string,
  body: { admit_per_minute: number; token_ttl_seconds?: number; opens_at?: string | null },
) {
  const res = await callJson(`/admin/api/waiting-rooms/${room}`, "PUT", body, ADMIN);
  if (res.status !== 200) throw new Error(`room set-up failed: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

export const joinRoom = (room: string, visitor?: string, headers: Record<string, string> = {}) =>
  callJson(`/api/waiting-rooms/${room}/tickets`, "POST", visitor ? { visitor_id: visitor } : {}, headers);

export async function ticketOf(res: Response): Promise<TicketBody> {
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`expected a ticket, got ${res.status} ${await res.text()}`);
  }
  return (await res.json()) as TicketBody;
}

export const ticketStatus = async (ticket: TicketBody) => ticketOf(await call(ticket.status_url));

/**
 * Moves the room's clock forward by `ms`: every stored instant (opening, slot base, joins,
 * admissions, expiries) moves back by the same amount, which is what elapsed time looks like
 * to the room. Lets tests cover minutes of admissions without sleeping.
 */
export async function advanceRoomClock(room: string, ms: number): Promise<void> {
  await runInDurableObject(roomObject(room), (_instance, state) => shiftRoomClock(state, ms));
}

/**
 * Moves the room's clock to exactly `ms` after its opening, measured when the shift is applied,
 * so the real time a loaded machine spends between calls does not add up.
 */
export async function setRoomClockSinceOpening(room: string, ms: number): Promise<void> {
  await runInDurableObject(roomObject(room), (_instance, state) => {
    const { opens_at } = state.storage.sql.exec<{ opens_at: number }>("SELECT opens_at FROM room").one();
    const shift = opens_at + ms - Date.now();
    if (shift < 0) throw new Error(`the room is already ${-shift} ms past that point`);
    shiftRoomClock(state, shift);
  });
}

function shiftRoomClock(state: DurableObjectState, ms: number): void {
  state.storage.sql.exec(
    `UPDATE room SET base_at = base_at - ?1, last_slot_at = last_slot_at - ?1, opens_at = opens_at - ?1,
         created_at = created_at - ?1`,
    ms,
  );
  state.storage.sql.exec(
    "UPDATE tickets SET joined_at = joined_at - ?1, admitted_at = admitted_at - ?1, expires_at = expires_at - ?1",
    ms,
  );
}

/** An admission token for `room` (a fast room admits at once; a briefly waiting ticket is polled). */
export async function admissionFor(room: string): Promise<string> {
  let ticket = await ticketOf(await joinRoom(room));
  for (let i = 0; ticket.status === "waiting" && i < 50; i++) {
    await scheduler.wait(5);
    ticket = await ticketStatus(ticket);
  }
  if (!ticket.admission_token) throw new Error(`not admitted to ${room}: ${JSON.stringify(ticket)}`);
  return ticket.admission_token;
}
