import { database } from "../../db/client";
import { deadLetterMessage, RetryLater, retryOrDeadLetter } from "../events/consumer";
import { judgeEventVersion, NEWER_EVENT_RETRY_SECONDS } from "../events/versions";
import { describeError, log } from "../lib/logging";
import { handleSearchIndexEvents } from "../search/indexer";
import { type CatalogChangedEvent, CatalogChangedEventSchema } from "./events";
import { ALL_SCOPE, PRODUCT_DOC_TTL_SECONDS } from "./kv-keys";
import {
  buildCategoryTree,
  buildProductDocument,
  bumpListingGenerations,
  readProductDocument,
  writeCategoryTree,
  writeProductDocument,
} from "./projections";
import { ancestorSlugs, type CategoryRow, loadCategories, loadProduct } from "./queries";
import { purgeProductResponses } from "./response-cache";

/** Queue name of `CATALOG_EVENTS` (wrangler.toml), used by the edge worker to dispatch batches. */
export const CATALOG_EVENTS_QUEUE = "popcart-catalog-events";

interface EntityGroup {
  newest: CatalogChangedEvent;
  slugs: Set<string>;
  messages: Message<unknown>[];
}

/** What projecting one entity touched: listing scopes to bump and product slugs to purge. */
interface Projected {
  scopes: Set<string>;
  slugs: Set<string>;
}

const SOURCE = { queue: "CATALOG_EVENTS", consumer: "catalog-projection" } as const;
// Exponential backoff from 10 s; dead-lettered (with the reason) on the 5th failed attempt.
const RETRY_POLICY = { maxAttempts: 5, baseDelaySeconds: 10 };

/**
 * Consumes `catalog.changed`: rebuilds the affected KV documents from D1, bumps the listing
 * generations of every scope the product was or is in, and purges this colo's cached
 * product responses. Messages for the same entity are coalesced (one D1 read and at most one
 * KV write per entity per batch). Rebuilding from D1 makes replays and duplicates harmless,
 * and the revision guard in `writeProductDocument` stops an older document from replacing a
 * newer one. Each entity's messages are acked or retried together; a malformed message is
 * acked and logged, since retrying cannot fix it.
 */
export async function handleCatalogEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const groups = new Map<string, EntityGroup>();
  for (const message of batch.messages) {
    const verdict = judgeEventVersion(message.body, ["catalog.changed"]);
    if (verdict.action === "retry") {
      const later = new RetryLater(verdict.reason, NEWER_EVENT_RETRY_SECONDS);
      await retryOrDeadLetter(env, SOURCE, message, later, RETRY_POLICY);
      continue;
    }
    if (verdict.action === "dead_letter") {
      await deadLetterMessage(env, SOURCE, message, verdict.reason);
      message.ack();
      continue;
    }
    const parsed = CatalogChangedEventSchema.safeParse(message.body);
    if (!parsed.success) {
      // Retrying cannot fix a malformed event: dead-letter it so it stays visible and replayable.
      await deadLetterMessage(
        env,
        SOURCE,
        message,
        `invalid event: ${parsed.error.issues[0]?.message ?? "schema"}`,
      );
      message.ack();
      continue;
    }
    const event = parsed.data;
    const key = `${event.entity}:${event.entity_id}`;
    const group = groups.get(key) ?? { newest: event, slugs: new Set<string>(), messages: [] };
    if (event.revision > group.newest.revision) group.newest = event;
    for (const slug of event.slugs) group.slugs.add(slug);
    group.messages.push(message);
    groups.set(key, group);
  }
  if (groups.size === 0) return;

  const db = database(env.DB);
  let allCategories: CategoryRow[];
  try {
    allCategories = await loadCategories(db);
  } catch (error) {
    log("error", "catalog_projection_failed", { stage: "categories", ...describeError(error) });
    for (const group of groups.values()) await retryAll(env, group.messages, error);
    return;
  }

  const scopes = new Set<string>();
  const slugs = new Set<string>();
  const projected: Message<unknown>[] = [];
  const projectedEvents: CatalogChangedEvent[] = [];
  for (const group of groups.values()) {
    try {
      const result =
        group.newest.entity === "product"
          ? await projectProduct(env, group, allCategories)
          : await projectCategory(env, group, allCategories);
      for (const scope of result.scopes) scopes.add(scope);
      for (const slug of result.slugs) slugs.add(slug);
      projected.push(...group.messages);
      projectedEvents.push(group.newest);
    } catch (error) {
      log("error", "catalog_projection_failed", {
        entity: group.newest.entity,
        entity_id: group.newest.entity_id,
        revision: group.newest.revision,
        ...describeError(error),
      });
      await retryAll(env, group.messages, error);
    }
  }

  try {
    // One write per scope per batch, however many products changed: KV allows ~1 write/s per key.
    await bumpListingGenerations(env.CATALOG_KV, scopes);
    await purgeProductResponses(slugs);
    // The search index is another projection of the same events (a queue has one consumer).
    await handleSearchIndexEvents(env, projectedEvents);
    for (const message of projected) message.ack();
  } catch (error) {
    log("error", "catalog_projection_failed", { stage: "invalidate", ...describeError(error) });
    await retryAll(env, projected, error);
  }
}

async function retryAll(env: Env, messages: Message<unknown>[], error: unknown) {
  for (const message of messages) await retryOrDeadLetter(env, SOURCE, message, error, RETRY_POLICY);
}

async function projectProduct(
  env: Env,
  group: EntityGroup,
  allCategories: CategoryRow[],
): Promise<Projected> {
  const kv = env.CATALOG_KV;
  const db = database(env.DB);
  const { newest } = group;
  const record = await loadProduct(db, { id: newest.entity_id });
  if (!record) {
    // Products are archived, never deleted; an unknown id is a bogus event, and retrying will not help.
    log("warn", "catalog_event_unknown_product", { entity_id: newest.entity_id, revision: newest.revision });
    return { scopes: new Set(), slugs: new Set() };
  }
  if (record.revision < newest.revision) {
    // A read replica behind the primary: retry rather than publish an older document.
    throw new Error(`D1 has revision ${record.revision}, event says ${newest.revision}`);
  }
  const currentScopes = ancestorSlugs(
    allCategories,
    record.categories.map((c) => c.id),
  );
  const scopes = new Set<string>([ALL_SCOPE, ...currentScopes]);
  const slugs = new Set<string>([record.slug, ...group.slugs]);

  const existing = await readProductDocument(kv, record.slug);
  if (existing?.product_id === record.id) {
    for (const scope of existing.scopes) scopes.add(scope);
  } else if (newest.change !== "created") {
    // No document tells which listings held the product before this write (it expired, or
    // the create was never projected), so every category's listing may be stale.
    for (const category of allCategories) scopes.add(category.slug);
  }
  await writeProductDocument(
    kv,
    buildProductDocument(record, currentScopes),
    PRODUCT_DOC_TTL_SECONDS,
    existing,
  );

  for (const formerSlug of group.slugs) {
    if (formerSlug === record.slug) continue;
    const owner = await loadProduct(db, { slug: formerSlug });
    if (owner && owner.id !== record.id) continue; // another product took the slug; its events own it
    const former = await readProductDocument(kv, formerSlug);
    if (former && former.product_id !== record.id) continue;
    if (former) for (const scope of former.scopes) scopes.add(scope);
    await writeProductDocument(
      kv,
      buildProductDocument(record, currentScopes, formerSlug),
      PRODUCT_DOC_TTL_SECONDS,
      former,
    );
  }
  return { scopes, slugs };
}

async function projectCategory(
  env: Env,
  group: EntityGroup,
  allCategories: CategoryRow[],
): Promise<Projected> {
  await writeCategoryTree(env.CATALOG_KV, buildCategoryTree(allCategories), PRODUCT_DOC_TTL_SECONDS);
  // A category's own listing (and its ancestors', which include descendants) may change shape.
  const scopes = ancestorSlugs(allCategories, [group.newest.entity_id]);
  for (const slug of group.slugs) scopes.add(slug);
  return { scopes, slugs: new Set() };
}
