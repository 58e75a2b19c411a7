import type { z } from "@hono/zod-openapi";
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import type { RoomSchema } from "../../waiting-room/schemas";
import { Field, PostForm, ReadOnly, when } from "../components";
import { type ConsoleContext, type ConsoleEnv, can } from "../context";
import { formFields, intField, toUtcInput, utcField } from "../form";
import { done, failure, type PageOptions, page, section } from "../page";

type Room = z.infer<typeof RoomSchema>;
const roomPath = (room: string) => `/admin/waiting-rooms/${encodeURIComponent(room)}`;

const Finder: FC = () => (
  <form method="get" action="/admin/waiting-rooms/open" class="inline-form">
    <Field name="room" label="Waiting room name" hint="Rooms are named in a SKU's sale settings." />
    <button type="submit">Open</button>
  </form>
);

const RoomPage: FC<{ name: string; room: Room | null; csrf: string; writable: boolean }> = ({
  name,
  room,
  csrf,
  writable,
}) => (
  <>
    <p class="crumbs">
      <a href="/admin/waiting-rooms">Waiting rooms</a> / {name}
    </p>
    <h1>Waiting room {name}</h1>
    {room ? (
      <>
        <dl class="counters">
          <div class="counter">
            <dt>In line</dt>
            <dd data-room="waiting">{room.waiting}</dd>
          </div>
          <div class="counter">
            <dt>Admitted</dt>
            <dd data-room="admitted">{room.admitted}</dd>
          </div>
          <div class="counter">
            <dt>Admissions in use</dt>
            <dd>{room.admitted_active}</dd>
          </div>
          <div class="counter">
            <dt>Rate</dt>
            <dd data-room="rate">{room.admit_per_minute}/min</dd>
          </div>
        </dl>
        <p class="muted">
          Joined {room.joined} · opens {when(room.opens_at)} · next admission {when(room.next_admission_at)}
        </p>
      </>
    ) : (
      <p>This room does not exist yet. Saving creates it.</p>
    )}
    {writable ? (
      <section class="card" aria-labelledby="rate-h">
        <h2 id="rate-h">Settings</h2>
        <PostForm action={roomPath(name)} csrf={csrf} label="Waiting room settings">
          <Field
            name="admit_per_minute"
            label="Admit per minute"
            type="number"
            min={1}
            value={room?.admit_per_minute ?? 60}
            required
            hint="Changing the rate keeps everyone's place in line."
          />
          <Field
            name="token_ttl_seconds"
            label="Admission lasts (seconds)"
            type="number"
            min={30}
            value={room?.token_ttl_seconds ?? 600}
          />
          <Field
            name="opens_at"
            label="Opens (UTC)"
            type="datetime-local"
            value={toUtcInput(room?.opens_at)}
            hint="Empty: admitting now."
          />
          <button type="submit">Save</button>
        </PostForm>
      </section>
    ) : (
      <ReadOnly scope="inventory:write" />
    )}
  </>
);

async function showRoom(c: ConsoleContext, name: string, opts: PageOptions = {}) {
  const result = await c.get("api").get<Room>(`/waiting-rooms/${encodeURIComponent(name)}`);
  if (!result.ok && result.status !== 404) return page(c, name, <Finder />, failure(result));
  return page(
    c,
    `Waiting room ${name}`,
    <RoomPage
      name={name}
      room={result.ok ? result.data : null}
      csrf={c.get("session").csrf}
      writable={can(c, "inventory:write")}
    />,
    opts,
  );
}

/** Waiting rooms: line length, admissions and rate; change the rate. */
export const waitingRoomsSection = new Hono<ConsoleEnv>()
  .use("*", section("inventory:read"))
  .get("/", (c) =>
    page(
      c,
      "Waiting rooms",
      <>
        <h1>Waiting rooms</h1>
        <Finder />
      </>,
    ),
  )
  .get("/open", (c) => {
    const room = c.req.query("room")?.trim() ?? "";
    return c.redirect(room ? roomPath(room) : "/admin/waiting-rooms", 303);
  })
  .get("/:room", (c) => showRoom(c, c.req.param("room")))
  .post("/:room", async (c) => {
    const name = c.req.param("room");
    const f = await formFields(c);
    const result = await c.get("api").send("PUT", `/waiting-rooms/${encodeURIComponent(name)}`, {
      admit_per_minute: intField(f.admit_per_minute),
      token_ttl_seconds: intField(f.token_ttl_seconds),
      opens_at: utcField(f.opens_at) ?? null,
    });
    if (!result.ok) return showRoom(c, name, failure(result));
    return done(c, roomPath(name), "room_saved");
  });
