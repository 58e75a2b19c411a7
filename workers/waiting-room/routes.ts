import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../lib/env";
import { createRouter } from "../lib/router";
import { problemResponses } from "../lib/schemas";
import { roomNotFound, secretMissing, ticketNotFound } from "./problems";
import { JoinBody, RoomParam, TicketParams, TicketSchema } from "./schemas";
import { joinRoom, type TicketOutcome, ticketStatus } from "./service";
import { admissionSecret } from "./token";

const tags = ["Waiting rooms"];
const ticketJson = (description: string) => ({
  description,
  content: { "application/json": { schema: TicketSchema } },
});

const join = createRoute({
  method: "post",
  path: "/api/waiting-rooms/{room}/tickets",
  tags,
  summary: "Join a flash sale's waiting room",
  description:
    "Returns a ticket with the visitor's place in line and when to poll again. Visitors are admitted in the order they joined at the room's rate; " +
    "a visitor joining an empty line is admitted at once and gets the `admission_token` right away. " +
    "Joining again with the same `visitor_id` returns the same ticket (200).",
  request: {
    params: RoomParam,
    body: { required: true, content: { "application/json": { schema: JoinBody } } },
  },
  responses: {
    201: ticketJson("Joined"),
    200: ticketJson("The visitor's existing ticket"),
    ...problemResponses(400, 404, 413, 422, 429, 503),
  },
});

const status = createRoute({
  method: "get",
  path: "/api/waiting-rooms/{room}/tickets/{ticket}",
  tags,
  summary: "A ticket's place in line, or its admission token once admitted",
  description:
    "Poll after `poll_after_seconds`. `admitted` carries the `admission_token` to send as `Popcart-Admission`; `expired` means the admission lapsed (join again).",
  request: { params: TicketParams },
  responses: { 200: ticketJson("The ticket"), ...problemResponses(404, 422, 503) },
});

function ticketResponse(c: Context<AppEnv>, room: string, outcome: TicketOutcome) {
  if (!outcome.ok) throw outcome.reason === "room_not_found" ? roomNotFound(room) : ticketNotFound();
  const fields = c.get("log").fields;
  fields.waiting_room = room;
  fields.ticket_id = outcome.ticket.ticket;
  fields.ticket_status = outcome.ticket.status;
  c.header("cache-control", "no-store");
  return outcome.ticket;
}

/** Public waiting-room routes: join, then poll the ticket until admitted. */
export const waitingRoomRoutes = createRouter()
  .openapi(join, async (c) => {
    const { room } = c.req.valid("param");
    const body: z.infer<typeof JoinBody> = c.req.valid("json");
    const secret = admissionSecret(c.env);
    if (!secret) throw secretMissing();
    const outcome = await joinRoom(c.env, {
      room,
      secret,
      ...(body.visitor_id === undefined ? {} : { visitorId: body.visitor_id }),
    });
    const ticket = ticketResponse(c, room, outcome);
    if (outcome.ok && outcome.created) {
      c.get("metrics").waitingRoom({ room, event: "joined", position: ticket.position });
    }
    return outcome.ok && outcome.created ? c.json(ticket, 201) : c.json(ticket, 200);
  })
  .openapi(status, async (c) => {
    const { room, ticket } = c.req.valid("param");
    const secret = admissionSecret(c.env);
    if (!secret) throw secretMissing();
    return c.json(ticketResponse(c, room, await ticketStatus(c.env, { room, ticket, secret })), 200);
  });
