import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TICKET_RETENTION_MS } from "../durable-objects/waiting-room";
import { createApp } from "../workers/edge/app";
import { verifyAdmission } from "../workers/waiting-room/token";
import { ADMIN, call, callJson, expectProblem, inOneWindow } from "./helpers";
import {
  advanceRoomClock,
  joinRoom,
  randomRoom,
  randomVisitor,
  roomObject,
  setRoomClockSinceOpening,
  setUpRoom,
  type TicketBody,
  ticketOf,
  ticketStatus,
} from "./waiting-room-fixtures";

const SECRET = env.WAITING_ROOM_SECRET;

describe("waiting room tickets", () => {
  it("lets the first visitor of an open, empty room in at once with a signed, expiring admission", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 1, token_ttl_seconds: 600 });
    const before = Date.now();
    const res = await joinRoom(room);
    expect(res.status).toBe(201);
    const ticket = await ticketOf(res);
    expect(ticket).toMatchObject({ room, status: "admitted", position: 0, poll_after_seconds: null });
    expect(ticket.ticket).toMatch(/^tkt_[0-9a-z]{20}$/);
    const claims = await verifyAdmission(SECRET, ticket.admission_token ?? "");
    expect(claims).toMatchObject({ room, ticket: ticket.ticket });
    expect(claims?.expires_at).toBeGreaterThanOrEqual(before + 600_000);
    expect(claims?.expires_at).toBe(Date.parse(ticket.admission_expires_at ?? ""));
    // Polling the ticket hands back the very same token.
    expect((await ticketStatus(ticket)).admission_token).toBe(ticket.admission_token);
  });

  it("queues later visitors in join order with their place, estimated wait and polling advice", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 1 });
    const tickets: TicketBody[] = [];
    for (let i = 0; i < 4; i++) tickets.push(await ticketOf(await joinRoom(room)));
    expect(tickets.map((t) => [t.status, t.position])).toEqual([
      ["admitted", 0],
      ["waiting", 1],
      ["waiting", 2],
      ["waiting", 3],
    ]);
    const [first, second, third] = tickets;
    // One slot a minute after the first admission; the estimate shrinks only by time spent joining.
    const wait = second?.estimated_wait_seconds ?? 0;
    const elapsed = (Date.parse(second?.joined_at ?? "") - Date.parse(first?.admitted_at ?? "")) / 1000;
    expect(Math.abs(wait - (60 - elapsed))).toBeLessThanOrEqual(1);
    expect((third?.estimated_wait_seconds ?? 0) - wait).toBeGreaterThanOrEqual(59);
    expect((third?.estimated_wait_seconds ?? 0) - wait).toBeLessThanOrEqual(61);
    expect(second?.poll_after_seconds).toBe(Math.ceil(wait / 3));
    expect(second?.admission_token).toBeNull();
  });

  it("admits exactly the configured number per minute, in join order, from the opening on", async () => {
    const room = randomRoom();
    const opensAt = Date.now() + 3_600_000;
    await setUpRoom(room, { admit_per_minute: 6, opens_at: new Date(opensAt).toISOString() });
    const tickets: TicketBody[] = [];
    for (let i = 0; i < 20; i++) tickets.push(await ticketOf(await joinRoom(room)));
    expect(tickets.map((t) => t.position)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(tickets[0]?.estimated_wait_seconds).toBeGreaterThan(3590);

    const statuses = () => Promise.all(tickets.map(ticketStatus));
    // Half a slot (5 s) past the opening, then half a slot before one and two minutes have passed.
    await setRoomClockSinceOpening(room, 5_000);
    expect((await statuses()).filter((t) => t.status === "admitted")).toHaveLength(1);
    await setRoomClockSinceOpening(room, 55_000);
    let now = await statuses();
    expect(now.map((t) => t.status === "admitted")).toEqual(Array.from({ length: 20 }, (_, i) => i < 6));
    expect(now[6]?.position).toBe(1);
    expect(now[19]?.position).toBe(14);
    // Each admission sits on its own slot: 10 s apart, from the opening.
    const opened = Date.parse(now[0]?.admitted_at ?? "");
    expect(now.slice(0, 6).map((t) => Date.parse(t.admitted_at ?? "") - opened)).toEqual([
      0, 10_000, 20_000, 30_000, 40_000, 50_000,
    ]);
    await setRoomClockSinceOpening(room, 115_000);
    now = await statuses();
    expect(now.filter((t) => t.status === "admitted")).toHaveLength(12);
    expect(now[12]?.position).toBe(1);

    const stats = await callJson(`/admin/api/waiting-rooms/${room}`, "GET", undefined, ADMIN);
    expect(await stats.json()).toMatchObject({ joined: 20, admitted: 12, waiting: 8, admitted_active: 12 });
  });

  it("gives a returning visitor their own ticket back, and a new place once their admission expired", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 1, token_ttl_seconds: 60 });
    const visitor = randomVisitor();
    const first = await ticketOf(await joinRoom(room, visitor));
    const other = await ticketOf(await joinRoom(room, randomVisitor()));
    const again = await joinRoom(room, visitor);
    expect(again.status).toBe(200);
    expect((await ticketOf(again)).ticket).toBe(first.ticket);
    expect(other.ticket).not.toBe(first.ticket);

    await advanceRoomClock(room, 61_000);
    expect(await ticketStatus(first)).toMatchObject({ status: "expired", admission_token: null });
    const rejoined = await joinRoom(room, visitor);
    expect(rejoined.status).toBe(201);
    const fresh = await ticketOf(rejoined);
    expect(fresh.ticket).not.toBe(first.ticket);
    // `other` was admitted a minute after `first`, so the visitor now waits behind nobody but the rate.
    expect(fresh.status).toBe("waiting");
    expect(fresh.position).toBe(1);
  });

  it("expires an admission after the room's token lifetime", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 60, token_ttl_seconds: 30 });
    const ticket = await ticketOf(await joinRoom(room));
    expect(ticket.status).toBe("admitted");
    await advanceRoomClock(room, 20_000);
    expect((await ticketStatus(ticket)).status).toBe("admitted");
    await advanceRoomClock(room, 10_000);
    const expired = await ticketStatus(ticket);
    expect(expired).toMatchObject({ status: "expired", admission_token: null, position: 0 });
    expect(Date.parse(expired.admission_expires_at ?? "")).toBeLessThan(Date.now());
  });

  it("numbers concurrent joins without gaps or duplicates", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 1 });
    const tickets = await Promise.all(Array.from({ length: 40 }, () => joinRoom(room).then(ticketOf)));
    expect(new Set(tickets.map((t) => t.ticket)).size).toBe(40);
    expect(tickets.map((t) => t.position).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it("purges tickets a day after their admission expired, keeping the room's counts", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 60, token_ttl_seconds: 60 });
    const ticket = await ticketOf(await joinRoom(room));
    const stub = roomObject(room);
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe(Date.parse(ticket.admission_expires_at ?? "") + TICKET_RETENTION_MS);
    // Fired early, the alarm purges nothing.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await ticketStatus(ticket)).status).toBe("admitted");
    await advanceRoomClock(room, 60_000 + TICKET_RETENTION_MS + 1_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await expectProblem(await call(ticket.status_url), 404, "ticket_not_found");
    const stats = await callJson(`/admin/api/waiting-rooms/${room}`, "GET", undefined, ADMIN);
    expect(await stats.json()).toMatchObject({ joined: 1, admitted: 1, waiting: 0, admitted_active: 0 });
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });

  it("answers coded problems for unknown rooms and tickets and for malformed input", async () => {
    const room = randomRoom();
    await expectProblem(await joinRoom(room), 404, "waiting_room_not_found");
    await setUpRoom(room, { admit_per_minute: 10 });
    const base = `/api/waiting-rooms/${room}/tickets`;
    await expectProblem(await call(`${base}/not-a-ticket`), 404, "ticket_not_found");
    await expectProblem(await call(`${base}/tkt_00000000000000000000`), 404, "ticket_not_found");
    await expectProblem(await callJson(base, "POST", { visitor_id: "short" }), 422, "validation_failed");
    await expectProblem(await callJson(base, "POST", { seat: 1 }), 422, "validation_failed");
    await expectProblem(await callJson(base, "POST", "[1,2"), 400, "malformed_json");
    await expectProblem(await joinRoom("bad room!"), 422, "validation_failed");
    const admin = `/admin/api/waiting-rooms/${room}`;
    for (const body of [
      { admit_per_minute: 0 },
      { admit_per_minute: 1.5 },
      { admit_per_minute: 5, opens_at: "soon" },
    ]) {
      await expectProblem(await callJson(admin, "PUT", body, ADMIN), 422, "validation_failed");
    }
    await expectProblem(
      await callJson(`/admin/api/waiting-rooms/${randomRoom()}`, "GET", undefined, ADMIN),
      404,
      "waiting_room_not_found",
    );
  });

  it("requires inventory scopes to configure or read a room", async () => {
    const room = randomRoom();
    const path = `/admin/api/waiting-rooms/${room}`;
    await expectProblem(await callJson(path, "PUT", { admit_per_minute: 5 }), 401, "unauthorized");
    const reader = { authorization: "Bearer catalog-reader-token" };
    await expectProblem(await callJson(path, "PUT", { admit_per_minute: 5 }, reader), 403, "forbidden");
    await expectProblem(await call(path, { headers: reader }), 403, "forbidden");
  });

  it("refuses to run rooms without a signing secret of at least 32 characters", async () => {
    const app = createApp();
    const weak = { ...env, WAITING_ROOM_SECRET: "too-short" };
    const res = await app.request(
      `/admin/api/waiting-rooms/${randomRoom()}`,
      {
        method: "PUT",
        headers: { ...ADMIN, "content-type": "application/json" },
        body: '{"admit_per_minute":5}',
      },
      weak,
    );
    await expectProblem(res, 503, "waiting_room_secret_missing");
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 5 });
    const join = await app.request(
      `/api/waiting-rooms/${room}/tickets`,
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      weak,
    );
    await expectProblem(join, 503, "waiting_room_secret_missing");
  });

  it("rate-limits joining per client with 429 and Retry-After", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 600 });
    const { ip, statuses, limited } = await inOneWindow(10_000, async () => {
      const ip = `10.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.9`;
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await joinRoom(room, undefined, { "cf-connecting-ip": ip });
        statuses.push(res.status);
        await res.body?.cancel();
      }
      return { ip, statuses, limited: await joinRoom(room, undefined, { "cf-connecting-ip": ip }) };
    });
    expect(statuses).toEqual(Array(10).fill(201));
    expect(limited.headers.get("retry-after")).toBe("10");
    await expectProblem(limited, 429, "rate_limited");
    // Polling is not a join: it stays available to the limited client.
    const ticket = await ticketOf(await joinRoom(room));
    expect((await call(ticket.status_url, { headers: { "cf-connecting-ip": ip } })).status).toBe(200);
  });

  it("emits a joined metric with the place given", async () => {
    const room = randomRoom();
    await setUpRoom(room, { admit_per_minute: 1 });
    const points: AnalyticsEngineDataPoint[] = [];
    const app = createApp();
    const recording = {
      ...env,
      METRICS: { writeDataPoint: (p: AnalyticsEngineDataPoint) => points.push(p) },
    };
    for (let i = 0; i < 2; i++) {
      await app.request(
        `/api/waiting-rooms/${room}/tickets`,
        { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
        recording,
      );
    }
    const joins = points.filter((p) => p.indexes?.[0] === "waiting_room");
    expect(joins.map((p) => [p.blobs?.[1], p.blobs?.[2], p.doubles?.[2]])).toEqual([
      [room, "joined", 0],
      [room, "joined", 1],
    ]);
  });
});
