import { ApiError, problems } from "../lib/problem";

/** The room does not exist (never configured). */
export const roomNotFound = (room: string) =>
  problems.notFound("Waiting room", "waiting_room_not_found", `There is no waiting room ${room}.`);

/** Admissions cannot be signed: the deployment lacks a usable `WAITING_ROOM_SECRET`. */
export const secretMissing = () =>
  problems.unavailable(
    "waiting_room_secret_missing",
    "Waiting rooms need WAITING_ROOM_SECRET (at least 32 characters): `wrangler secret put WAITING_ROOM_SECRET`.",
    60,
  );

/** Unknown, malformed or purged ticket id (answered alike, so ids cannot be probed). */
export const ticketNotFound = () =>
  new ApiError(404, "ticket_not_found", "Ticket not found", {
    detail: "No such ticket in this waiting room (tickets are purged a day after their admission expired).",
  });
