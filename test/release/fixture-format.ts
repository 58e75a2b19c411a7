import type { D1Record, RpcRecord } from "./recorders";

/**
 * The format of a release's compatibility fixtures (test/fixtures/releases/<release>/, see the
 * README there). Each file is plain JSON so a release's artefacts stay readable in review.
 */

/** `manifest.json`: what the release ran with. */
export interface ReleaseManifest {
  format: 1;
  release?: string;
  commit?: string;
  captured_at: string;
  /** The event versions the release emitted (`current`) and accepted (`oldest`). */
  event_versions: Record<string, { current: number; oldest: number }>;
  /** The Durable Object storage migrations the release shipped, in order (append-only). */
  storage_migrations: { cart: string[]; inventory: string[][]; waiting_room: string[][] };
  /** The D1 migrations the release had applied, by name and content hash (append-only). */
  d1_migrations: { name: string; sha256: string }[];
}

/** One Durable Object's SQLite storage: schema, rows and alarm. */
export interface StorageDump {
  object: string;
  alarm: number | null;
  tables: { name: string; sql: string; rows: Record<string, SqlStorageValue>[] }[];
  indexes: string[];
  /** Set on fixtures derived from a capture rather than captured (how, and from what). */
  provenance?: string;
}

/** `storage.json`: objects the release left mid-flight, and the carts' and tickets' credentials. */
export interface StorageFixture {
  captured_at: number;
  carts: { cart_id: string; token: string; checkout_id: string; role: "pay" | "expire" }[];
  /** Tickets of a waiting room, with the status URL (it carries the ticket's secret) and what it said. */
  tickets: { room: string; status_url: string; status: string; position: number }[];
  objects: StorageDump[];
}

/** Everything one capture produces; the reporter splits it into files. */
export interface ReleaseFixtures {
  manifest: ReleaseManifest;
  /** `events.json`: every queue message the release sent, exactly as sent, in order. */
  events: unknown[];
  /** `d1-queries.json`: every D1 call the release made, in order. */
  d1: D1Record[];
  /** `rpc-calls.json`: one call per RPC method, arguments as the caller passed them. */
  rpc: RpcRecord[];
  storage: StorageFixture;
}

/**
 * Placeholders for the values an RPC argument takes from the world it ran in (ids, token
 * hashes, SKU codes), so a later release can replay the same argument shapes in its own world.
 */
export const PLACEHOLDERS = {
  cart_id: /cart_[0-9a-z]{20}/g,
  line_id: /line_[0-9a-z]{20}/g,
  reservation_id: /res_[0-9a-z]{20}_\d{1,2}/g,
  checkout_id: /chk_[0-9a-z]{20}/g,
  order_id: /ord_[0-9a-z]{20}/g,
  payment_id: /pay_[0-9a-z]{20}/g,
  ticket_id: /tkt_[0-9a-z]{20}/g,
  /** A SHA-256 hex digest: a cart's token hash, a waiting-room visitor's hash. */
  digest: /\b[0-9a-f]{64}\b/g,
} as const;

export type Placeholder = keyof typeof PLACEHOLDERS | "sku" | "promotion_code" | "room";

function mapStrings(value: unknown, fn: (text: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, fn));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, fn)]));
  }
  return value;
}

/** Keeps the first call of each method and replaces world values with `{{placeholder}}`s. */
export function placeholders(
  calls: RpcRecord[],
  world: { skus: string[]; promotionCodes: string[]; rooms: string[] },
): RpcRecord[] {
  const literal = (values: string[], name: Placeholder) =>
    values.map((value) => [new RegExp(value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g"), name] as const);
  const rules = [
    ...literal(world.skus, "sku"),
    ...literal(world.promotionCodes, "promotion_code"),
    ...literal(world.rooms, "room"),
    ...Object.entries(PLACEHOLDERS).map(([name, pattern]) => [pattern, name] as const),
  ];
  const replace = (text: string) =>
    rules.reduce((out, [pattern, name]) => out.replace(pattern, `{{${name}}}`), text);
  const seen = new Set<string>();
  const out: RpcRecord[] = [];
  for (const call of calls) {
    const key = `${call.class}.${call.method}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...call, object: replace(call.object), args: mapStrings(call.args, replace) as unknown[] });
  }
  return out;
}

/** Fills `{{placeholder}}`s with this world's values; an unfilled one is a test bug, so it throws. */
export function fill<T>(value: T, world: Partial<Record<Placeholder, string>>): T {
  return mapStrings(value, (text) =>
    text.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
      const replacement = world[name as Placeholder];
      if (replacement === undefined) throw new Error(`no value for {{${name}}} in this world`);
      return replacement;
    }),
  ) as T;
}
