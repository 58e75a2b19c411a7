import { DurableObject } from "cloudflare:workers";
import { newId } from "../workers/lib/ids";
import { log } from "../workers/lib/logging";
import { metricsFor } from "../workers/lib/metrics";
import {
  admissionTime,
  advance,
  initialSchedule,
  issue,
  reconfigure,
  type Schedule,
  slotTime,
} from "../workers/waiting-room/schedule";
import { applyStorageMigrations } from "./storage-migrations";

interface RoomRow extends Record<string, SqlStorageValue> {
  name: string;
  admit_per_minute: number;
  token_ttl_seconds: number;
  opens_at: number | null;
  issued: number;
  admitted: number;
  base_at: number;
  slots_used: number;
  last_slot_at: number | null;
  created_at: number;
  updated_at: number;
}

interface TicketRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  visitor: string | null;
  joined_at: number;
  admitted_at: number | null;
  expires_at: number | null;
}

/** A room's settings as the admin API sets them. */
export interface RoomConfig {
  room: string;
  admitPerMinute: number;
  tokenTtlSeconds: number;
  /** No admissions before this instant (ms); null: admitting from now. */
  opensAt: number | null;
}

/** Settings and live counts of a room. */
export interface RoomStats {
  room: string;
  admit_per_minute: number;
  token_ttl_seconds: number;
  opens_at: string | null;
  /** Tickets issued since the room was created. */
  joined: number;
  /** Tickets admitted so far (the frontier). */
  admitted: number;
  /** Tickets still in line. */
  waiting: number;
  /** Admitted tickets whose admission has not expired yet. */
  admitted_active: number;
  /** When the first ticket in line is admitted, at the current rate (null: nobody waits). */
  next_admission_at: string | null;
  created_at: string;
  updated_at: string;
}

export type TicketStatus = "waiting" | "admitted" | "expired";

/** A ticket as the room sees it; the edge adds the signed token and polling advice. */
export interface TicketState {
  ticket: string;
  room: string;
  status: TicketStatus;
  /** Place in line: 1 = next to be admitted; 0 once admitted. */
  position: number;
  joined_at: number;
  /** When the ticket was admitted (its slot), or, while waiting, when it will be at the current rate. */
  admitted_at: number | null;
  estimated_admission_at: number | null;
  /** When the admission stops counting. */
  expires_at: number | null;
}

export type JoinResult =
  | { ok: true; ticket: TicketState; created: boolean }
  | { ok: false; reason: "room_not_found" };
export type TicketResult =
  | { ok: true; ticket: TicketState }
  | { ok: false; reason: "room_not_found" | "ticket_not_found" };
export type StatsResult = { ok: true; stats: RoomStats } | { ok: false; reason: "room_not_found" };

/**
 * SQLite schema of a room, one list of statements per version; `_migrations` records which
 * ran. Append-only and expand-only (test/compat-migrations.test.ts checks both against the
 * previous release), so a room that slept through releases migrates forward on wake.
 */
export const WAITING_ROOM_STORAGE_MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE room (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      name TEXT NOT NULL,
      admit_per_minute INTEGER NOT NULL,
      token_ttl_seconds INTEGER NOT NULL,
      opens_at INTEGER,
      issued INTEGER NOT NULL DEFAULT 0,
      admitted INTEGER NOT NULL DEFAULT 0,
      base_at INTEGER NOT NULL,
      slots_used INTEGER NOT NULL DEFAULT 0,
      last_slot_at INTEGER,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL)`,
    `CREATE TABLE tickets (
      seq INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      visitor TEXT,
      joined_at INTEGER NOT NULL,
      admitted_at INTEGER,
      expires_at INTEGER)`,
    "CREATE INDEX tickets_visitor ON tickets (visitor, seq)",
    "CREATE INDEX tickets_expiry ON tickets (expires_at)",
  ],
];

/** Expired tickets are kept this long (their status still answers "expired"), then purged. */
export const TICKET_RETENTION_MS = 24 * 3600 * 1000;

const iso = (ms: number) => new Date(ms).toISOString();

const scheduleOf = (row: RoomRow): Schedule => ({
  issued: row.issued,
  admitted: row.admitted,
  baseAt: row.base_at,
  slotsUsed: row.slots_used,
  lastSlotAt: row.last_slot_at,
  ratePerMinute: row.admit_per_minute,
});

/**
 * One object per waiting room (`room:<name>`), in front of a flash sale's reservations. It
 * numbers visitors as they join and admits them in that order at the room's rate
 * (workers/waiting-room/schedule.ts). Admission is computed lazily from the clock on every
 * call, so no alarm drives it; the only alarm purges tickets a day after their admission
 * expired. Every method reads and writes SQLite synchronously, so concurrent joins are
 * numbered without gaps or duplicates.
 */
export class WaitingRoomObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      applyStorageMigrations(ctx.storage, WAITING_ROOM_STORAGE_MIGRATIONS);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * Creates the room or changes its rate, token lifetime and opening. Tickets keep their
   * places; admissions already made stand.
   */
  async configure(config: RoomConfig): Promise<RoomStats> {
    const now = Date.now();
    const existing = this.advanced(now);
    if (existing && existing.name !== config.room) {
      throw new Error(`room object ${existing.name} addressed as ${config.room}`);
    }
    if (!existing) {
      const s = initialSchedule(now, config.admitPerMinute, config.opensAt);
      this.sql.exec(
        `INSERT INTO room (id, name, admit_per_minute, token_ttl_seconds, opens_at, base_at, created_at, updated_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?)`,
        config.room,
        config.admitPerMinute,
        config.tokenTtlSeconds,
        config.opensAt,
        s.baseAt,
        now,
        now,
      );
    } else {
      const s = reconfigure(scheduleOf(existing), now, {
        ratePerMinute: config.admitPerMinute,
        opensAt: config.opensAt,
      });
      this.sql.exec(
        `UPDATE room SET admit_per_minute = ?, token_ttl_seconds = ?, opens_at = ?, base_at = ?, slots_used = ?,
           updated_at = ? WHERE id = 1`,
        s.ratePerMinute,
        config.tokenTtlSeconds,
        config.opensAt,
        s.baseAt,
        s.slotsUsed,
        now,
      );
    }
    log("info", "waiting_room_configured", {
      room: config.room,
      admit_per_minute: config.admitPerMinute,
      token_ttl_seconds: config.tokenTtlSeconds,
      opens_at: config.opensAt === null ? null : iso(config.opensAt),
    });
    await this.armPurge();
    return this.stats(this.requireRoom(), now);
  }

  /** The room's settings and live counts. */
  async status(): Promise<StatsResult> {
    const now = Date.now();
    const row = this.advanced(now);
    if (!row) return { ok: false, reason: "room_not_found" };
    await this.armPurge();
    return { ok: true, stats: this.stats(row, now) };
  }

  /**
   * Joins the line. A visitor key (the hash of the shopper's visitor id) makes joining
   * idempotent: the visitor gets their current ticket back, unless its admission has expired,
   * in which case they join again at the back.
   */
  async join(input: { visitor: string | null }): Promise<JoinResult> {
    const now = Date.now();
    const before = this.advanced(now);
    if (!before) return { ok: false, reason: "room_not_found" };
    if (input.visitor !== null) {
      const current = this.sql
        .exec<TicketRow>("SELECT * FROM tickets WHERE visitor = ? ORDER BY seq DESC LIMIT 1", input.visitor)
        .toArray()[0];
      if (current && !(current.expires_at !== null && current.expires_at <= now)) {
        return { ok: true, ticket: this.ticketState(current, before, now), created: false };
      }
    }
    const s = issue(scheduleOf(before), now);
    const id = newId("tkt");
    this.sql.exec(
      "INSERT INTO tickets (seq, id, visitor, joined_at) VALUES (?, ?, ?, ?)",
      s.issued,
      id,
      input.visitor,
      now,
    );
    this.sql.exec(
      "UPDATE room SET issued = ?, base_at = ?, slots_used = ?, updated_at = ? WHERE id = 1",
      s.issued,
      s.baseAt,
      s.slotsUsed,
      now,
    );
    // A visitor joining a room with no line is admitted at once.
    const after = this.advanced(now) ?? before;
    const ticket = this.requireTicket(id);
    await this.armPurge();
    return { ok: true, ticket: this.ticketState(ticket, after, now), created: true };
  }

  /** A ticket's place in line, or its admission. */
  async ticket(ticketId: string): Promise<TicketResult> {
    const now = Date.now();
    const row = this.advanced(now);
    if (!row) return { ok: false, reason: "room_not_found" };
    const ticket = this.sql.exec<TicketRow>("SELECT * FROM tickets WHERE id = ?", ticketId).toArray()[0];
    if (!ticket) return { ok: false, reason: "ticket_not_found" };
    await this.armPurge();
    return { ok: true, ticket: this.ticketState(ticket, row, now) };
  }

  /** Purges tickets whose admission expired over a day ago; re-arms while any remain. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const purged = this.sql.exec(
      "DELETE FROM tickets WHERE expires_at IS NOT NULL AND expires_at <= ?",
      now - TICKET_RETENTION_MS,
    ).rowsWritten;
    if (purged > 0) log("info", "waiting_room_purged", { room: this.room()?.name, tickets: purged });
    this.alarmAt = null;
    await this.armPurge();
  }

  /** The room with every ticket whose slot has fallen by `now` admitted; null before configuration. */
  private advanced(now: number): RoomRow | null {
    const row = this.room();
    if (!row) return null;
    const { schedule, admitted, firstSlot } = advance(scheduleOf(row), now);
    if (admitted === 0) return row;
    // Each newly admitted ticket gets its own slot's time: tickets row.admitted+1 … take slots
    // firstSlot … in order. CAST((n + r - 1) / r AS INTEGER) is ceil(n / r), as in slotTime.
    this.sql.exec(
      `UPDATE tickets SET
         admitted_at = ?1 + CAST(((?2 + seq - ?3 - 1) * 60000 + ?4 - 1) / ?4 AS INTEGER),
         expires_at = ?1 + CAST(((?2 + seq - ?3 - 1) * 60000 + ?4 - 1) / ?4 AS INTEGER) + ?5
       WHERE seq > ?3 AND seq <= ?6`,
      row.base_at,
      firstSlot,
      row.admitted,
      row.admit_per_minute,
      row.token_ttl_seconds * 1000,
      schedule.admitted,
    );
    this.sql.exec(
      "UPDATE room SET admitted = ?, slots_used = ?, last_slot_at = ? WHERE id = 1",
      schedule.admitted,
      schedule.slotsUsed,
      schedule.lastSlotAt,
    );
    metricsFor(this.env).waitingRoom({ room: row.name, event: "admitted", count: admitted });
    log("info", "waiting_room_admitted", {
      room: row.name,
      admitted,
      frontier: schedule.admitted,
      waiting: schedule.issued - schedule.admitted,
    });
    return this.requireRoom();
  }

  private ticketState(ticket: TicketRow, row: RoomRow, now: number): TicketState {
    const base = { ticket: ticket.id, room: row.name, joined_at: ticket.joined_at };
    if (ticket.seq > row.admitted) {
      return {
        ...base,
        status: "waiting",
        position: ticket.seq - row.admitted,
        admitted_at: null,
        estimated_admission_at: admissionTime(scheduleOf(row), ticket.seq),
        expires_at: null,
      };
    }
    const expiresAt = ticket.expires_at ?? now;
    return {
      ...base,
      status: expiresAt > now ? "admitted" : "expired",
      position: 0,
      admitted_at: ticket.admitted_at,
      estimated_admission_at: null,
      expires_at: expiresAt,
    };
  }

  private stats(row: RoomRow, now: number): RoomStats {
    const active = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM tickets WHERE expires_at > ?", now)
      .one().n;
    const waiting = row.issued - row.admitted;
    return {
      room: row.name,
      admit_per_minute: row.admit_per_minute,
      token_ttl_seconds: row.token_ttl_seconds,
      opens_at: row.opens_at === null ? null : iso(row.opens_at),
      joined: row.issued,
      admitted: row.admitted,
      waiting,
      admitted_active: active,
      next_admission_at: waiting > 0 ? iso(slotTime(scheduleOf(row), row.slots_used)) : null,
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
    };
  }

  /** Keeps one alarm at the earliest purge time while any admitted ticket remains. */
  private async armPurge(): Promise<void> {
    if (this.alarmAt !== null) return;
    const first = this.sql
      .exec<{ at: number | null }>("SELECT min(expires_at) AS at FROM tickets WHERE expires_at IS NOT NULL")
      .one().at;
    if (first === null) return;
    this.alarmAt = first + TICKET_RETENTION_MS;
    await this.ctx.storage.setAlarm(this.alarmAt);
  }

  private room(): RoomRow | null {
    return this.sql.exec<RoomRow>("SELECT * FROM room WHERE id = 1").toArray()[0] ?? null;
  }

  private requireRoom(): RoomRow {
    const row = this.room();
    if (!row) throw new Error("waiting room state missing");
    return row;
  }

  private requireTicket(id: string): TicketRow {
    const row = this.sql.exec<TicketRow>("SELECT * FROM tickets WHERE id = ?", id).toArray()[0];
    if (!row) throw new Error(`ticket ${id} missing`);
    return row;
  }
}
