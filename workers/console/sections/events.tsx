import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { DataTable, PostForm, ReadOnly, when } from "../components";
import { type ConsoleEnv, can } from "../context";
import { formFields, formList } from "../form";
import { done, page, section } from "../page";

interface DeadLetter {
  id: string;
  event_id: string | null;
  queue: string;
  consumer: string;
  type: string | null;
  error: string;
  attempts: number;
  failed_at: string;
  replayed_at: string | null;
  replay_count: number;
}

const MAX_REPLAY = 50;

const EventsPage: FC<{
  letters: DeadLetter[];
  includeReplayed: boolean;
  next: string | null;
  csrf: string;
  writable: boolean;
}> = ({ letters, includeReplayed, next, csrf, writable }) => (
  <>
    <h1>Events</h1>
    <p>
      Dead letters: events a consumer gave up on after all its retries, with the reason. Replaying sends an
      event back to its queue; consumers skip what they already applied.
    </p>
    <p>
      {includeReplayed ? (
        <a href="/admin/events">Hide replayed</a>
      ) : (
        <a href="/admin/events?include_replayed=true">Show replayed too</a>
      )}
    </p>
    {!writable ? <ReadOnly scope="events:write" /> : null}
    <PostForm action="/admin/events/replay" csrf={csrf} label="Replay dead letters">
      <DataTable
        caption="Newest first"
        headers={[{ hidden: "Select" }, "Failed (UTC)", "Event", "Queue / consumer", "Reason", "Replays"]}
      >
        {letters.map((d) => (
          <tr data-dead-letter={d.id}>
            <td>
              {writable ? (
                <input
                  type="checkbox"
                  name="id"
                  value={d.id}
                  id={`dl-${d.id}`}
                  aria-label={`Select ${d.type ?? "event"} ${d.id}`}
                />
              ) : null}
            </td>
            <td>{when(d.failed_at)}</td>
            <td>
              {d.type ?? "unknown"}
              <br />
              <code>{d.event_id ?? d.id}</code>
            </td>
            <td>
              {d.queue}
              <br />
              <span class="muted">{d.consumer}</span>
            </td>
            <td class="reason">{d.error}</td>
            <td data-replays>
              {d.replay_count}
              {d.replayed_at ? ` (last ${when(d.replayed_at)})` : ""}
            </td>
          </tr>
        ))}
      </DataTable>
      {letters.length === 0 ? <p>No dead letters. Every event reached its consumer.</p> : null}
      {writable && letters.length ? (
        <div class="actions">
          <div class="field check">
            <input id="f-force" name="force" type="checkbox" value="1" />
            <label for="f-force">Replay again even if already replayed</label>
          </div>
          <button type="submit">Replay selected</button>
        </div>
      ) : null}
    </PostForm>
    {next ? (
      <p>
        <a
          href={`/admin/events?${new URLSearchParams({ cursor: next, ...(includeReplayed ? { include_replayed: "true" } : {}) })}`}
        >
          Older
        </a>
      </p>
    ) : null}
  </>
);

/** Events: dead letters with their reasons; replay one or many through the admin API. */
export const eventsSection = new Hono<ConsoleEnv>()
  .use("*", section("orders:read"))
  .get("/", async (c) => {
    const includeReplayed = c.req.query("include_replayed") === "true";
    const result = await c
      .get("api")
      .get<{ data: DeadLetter[]; next_cursor: string | null }>("/events/dead-letters", {
        include_replayed: includeReplayed ? "true" : undefined,
        cursor: c.req.query("cursor"),
        limit: "50",
      });
    const props = {
      includeReplayed,
      csrf: c.get("session").csrf,
      writable: can(c, "events:write"),
    };
    if (!result.ok) {
      return page(c, "Events", <EventsPage letters={[]} next={null} {...props} />, {
        error: result.problem?.detail ?? "Could not list dead letters.",
        status: result.status === 403 ? 403 : 502,
      });
    }
    return page(
      c,
      "Events",
      <EventsPage letters={result.data.data} next={result.data.next_cursor} {...props} />,
    );
  })
  .post("/replay", async (c) => {
    const ids = (await formList(c, "id")).slice(0, MAX_REPLAY);
    const force = (await formFields(c)).force === "1";
    const failures: string[] = [];
    // One at a time: each replay is a queue send plus a D1 write; a burst gains nothing here.
    for (const id of ids) {
      const result = await c
        .get("api")
        .send("POST", `/events/dead-letters/${encodeURIComponent(id)}/replay`, force ? { force: true } : {});
      if (!result.ok) failures.push(`${id}: ${result.problem?.detail ?? result.status}`);
    }
    if (ids.length === 0) return c.redirect("/admin/events", 303);
    if (failures.length) {
      const listed = await c
        .get("api")
        .get<{ data: DeadLetter[]; next_cursor: string | null }>("/events/dead-letters", { limit: "50" });
      return page(
        c,
        "Events",
        <EventsPage
          letters={listed.ok ? listed.data.data : []}
          next={listed.ok ? listed.data.next_cursor : null}
          includeReplayed={false}
          csrf={c.get("session").csrf}
          writable={can(c, "events:write")}
        />,
        { error: `Not replayed: ${failures.join(" · ")}`, status: 409 },
      );
    }
    return done(c, "/admin/events", "replayed");
  });
