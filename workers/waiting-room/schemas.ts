import { z } from "@hono/zod-openapi";
import { MAX_RATE_PER_MINUTE } from "./schedule";

/** Room names: a sale id or the flash SKU itself (same alphabet as SKU codes). */
export const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TICKET_PATTERN = /^tkt_[0-9a-z]{20}$/;

export const RoomName = z.string().regex(ROOM_PATTERN);

export const RoomParam = z.object({
  room: RoomName.openapi({
    param: { name: "room", in: "path" },
    description: "The waiting room (a sale id, often the flash SKU)",
    example: "POP-DROP-001",
  }),
});

export const TicketParams = RoomParam.extend({
  ticket: z
    .string()
    .max(64)
    .openapi({ param: { name: "ticket", in: "path" }, example: "tkt_7d3k9q2m4n8p1r5s6t0v" }),
});

export const JoinBody = z
  .strictObject({
    visitor_id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,128}$/)
      .optional()
      .openapi({
        description:
          "A random id the client generates once and keeps (16-128 URL-safe characters); joining again with it returns the same ticket, so a refresh never loses a place. Treat it as a secret.",
      }),
  })
  .openapi("JoinWaitingRoomRequest");

export const TicketSchema = z
  .object({
    ticket: z.string().openapi({ description: "Ticket id; poll `status_url` with it" }),
    room: z.string(),
    status: z.enum(["waiting", "admitted", "expired"]),
    position: z.number().int().openapi({ description: "Place in line (1 = next); 0 once admitted" }),
    estimated_wait_seconds: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "While waiting: seconds until admission at the room's current rate" }),
    poll_after_seconds: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "While waiting: when to ask again (shorter as admission nears)" }),
    admission_token: z.string().nullable().openapi({
      description:
        "When admitted: send it as the `Popcart-Admission` header on cart line and checkout requests for this sale's SKUs",
    }),
    admission_expires_at: z.string().nullable(),
    admitted_at: z.string().nullable(),
    joined_at: z.string(),
    status_url: z.string(),
  })
  .openapi("WaitingRoomTicket");

export const RoomBody = z
  .strictObject({
    admit_per_minute: z
      .number()
      .int()
      .min(1)
      .max(MAX_RATE_PER_MINUTE)
      .openapi({ description: "Visitors admitted per minute, in the order they joined" }),
    token_ttl_seconds: z
      .number()
      .int()
      .min(30)
      .max(24 * 3600)
      .default(600)
      .openapi({ description: "How long an admission lets its holder reserve stock (default 600)" }),
    opens_at: z.iso
      .datetime({ offset: true })
      .nullable()
      .default(null)
      .openapi({ description: "No admissions before this instant; visitors may join and wait earlier" }),
  })
  .openapi("WaitingRoomConfigRequest");

export const RoomSchema = z
  .object({
    room: z.string(),
    admit_per_minute: z.number().int(),
    token_ttl_seconds: z.number().int(),
    opens_at: z.string().nullable(),
    joined: z.number().int().openapi({ description: "Tickets issued" }),
    admitted: z.number().int().openapi({ description: "Tickets admitted so far" }),
    waiting: z.number().int().openapi({ description: "Tickets in line" }),
    admitted_active: z.number().int().openapi({ description: "Admissions not yet expired" }),
    next_admission_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("WaitingRoom");

export type TicketView = z.infer<typeof TicketSchema>;

/** The admission header on routes that reserve stock (documented; tokens are checked by the gate). */
export const AdmissionHeaderSchema = z.object({
  "popcart-admission": z.string().max(4096).optional().openapi({
    description:
      "Waiting-room admission token(s) (`admission_token` of an admitted ticket), comma-separated; needed only for SKUs whose sale has a waiting room",
  }),
});
