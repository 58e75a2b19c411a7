import type { Database } from "../../db/client";
import { newEvent } from "../events/envelope";
import { outboxInsert, publishOutbox } from "../events/outbox";
import { describeError, log } from "../lib/logging";
import type { CatalogChangedEvent } from "./events";

export type CatalogChange = Pick<
  CatalogChangedEvent,
  "entity" | "entity_id" | "revision" | "change" | "slugs"
>;

/**
 * A `catalog.changed` event plus its outbox row, to put in the SAME `db.batch` as the write
 * it describes: the change and its event commit together, so no write goes unprojected.
 * `revision` is the revision the write produces as far as the writer knows (a lower bound
 * under concurrent writers); consumers re-read D1 for the rest.
 */
export function catalogChanged(db: Database, change: CatalogChange) {
  const event: CatalogChangedEvent = newEvent({
    type: "catalog.changed" as const,
    version: 1 as const,
    ...change,
  });
  return { event, statement: outboxInsert(db, "CATALOG_EVENTS", event, change.entity_id) };
}

/**
 * Sends committed catalog events right away. A failure does not fail the admin write (it
 * committed; a retrying client would only hit a conflict): the outbox sweeper re-sends it.
 */
export async function publishCatalogEvents(env: Env, events: CatalogChangedEvent[]): Promise<void> {
  try {
    await publishOutbox(
      env,
      events.map((event) => event.id),
    );
  } catch (error) {
    log("warn", "catalog_event_publish_deferred", { events: events.length, ...describeError(error) });
  }
}
