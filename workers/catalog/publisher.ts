import { newId } from "../lib/ids";
import { describeError, log } from "../lib/logging";
import type { CatalogChangedEvent } from "./events";

/**
 * Publishes `catalog.changed` after the D1 write committed. A failed publish does not undo
 * or fail the write (D1 is the truth and the client must not retry into a conflict): it is
 * logged, and the projection heals on the next write or when the document's TTL runs out.
 */
export async function publishCatalogChanged(
  env: Env,
  change: Pick<CatalogChangedEvent, "entity" | "entity_id" | "revision" | "change" | "slugs">,
): Promise<CatalogChangedEvent> {
  const event: CatalogChangedEvent = {
    id: newId("evt"),
    type: "catalog.changed",
    version: 1,
    occurred_at: new Date().toISOString(),
    ...change,
  };
  try {
    await env.CATALOG_EVENTS.send(event, { contentType: "json" });
  } catch (error) {
    log("error", "catalog_event_publish_failed", {
      event_id: event.id,
      entity_id: event.entity_id,
      ...describeError(error),
    });
  }
  return event;
}
