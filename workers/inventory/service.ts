import { sql } from "drizzle-orm";
import { database } from "../../db/client";
import { inventoryLevels } from "../../db/schema";
import { BoundedMap } from "../lib/bounded-map";
import { idempotencyKeyReused } from "../lib/idempotency";
import type { Admission } from "../waiting-room/admission";
import { availabilityKey, type InventoryLevelEvent, PublishedAvailabilitySchema } from "./events";
import type {
  CommitResult,
  CurtailResult,
  ExtendResult,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  ResizeResult,
  ReturnResult,
  SkuLedger,
  SkuView,
  StockChangeResult,
} from "./rpc";
import { objectName, type ReservationView, type ReserveRefusal, type SkuPolicy } from "./types";

export type { ReservationView, ReserveRefusal, SkuPolicy } from "./types";

/** At or below this many units, public availability says "only N left". */
export const LOW_STOCK_THRESHOLD = 10;

/** How long a worker isolate trusts a SKU's shard count before asking its coordinator again. */
const ROUTING_TTL_MS = 2000;
const MAX_ROUTING_ATTEMPTS = 4;

/**
 * Bounded: an isolate that sees every SKU of a 100 000-product catalog would otherwise keep
 * an entry per SKU for its whole life. A miss costs one coordinator call.
 */
const routingCache = new BoundedMap<string, { shardCount: number; at: number }>(2048);

const coordinator = (env: Env, sku: string) => env.INVENTORY.getByName(objectName({ sku, shard: 0 }));
const shardStub = (env: Env, sku: string, shard: number) =>
  env.INVENTORY.getByName(objectName({ sku, shard }));

const routingInFlight = new Map<string, Promise<number>>();

/** The SKU's shard count, cached per isolate; concurrent misses share one coordinator call. */
async function shardCount(env: Env, sku: string, refresh: boolean): Promise<number> {
  const cached = routingCache.get(sku);
  if (!refresh && cached && Date.now() - cached.at < ROUTING_TTL_MS) return cached.shardCount;
  let pending = routingInFlight.get(sku);
  if (!pending) {
    pending = coordinator(env, sku)
      .routing({ sku, shard: 0 })
      .then(({ shardCount }) => {
        routingCache.set(sku, { shardCount, at: Date.now() });
        return shardCount;
      })
      .finally(() => routingInFlight.delete(sku));
    routingInFlight.set(sku, pending);
  }
  return pending;
}

/** N = 1: the coordinator serves buyers itself; N > 1: shards 1..N do, by customer (else holder). */
export const shardFor = (routingKey: string, count: number): number =>
  count <= 1 ? 0 : 1 + (hash(routingKey) % count);

/** FNV-1a: a stable, cheap spread of holders over shards. */
function hash(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard that granted a reservation is encoded in its id: `res_<random>_<shard>`. */
export function shardOfReservation(reservationId: string): number | null {
  const match = /^res_[0-9a-z]{20}_(\d{1,2})$/.exec(reservationId);
  return match ? Number(match[1]) : null;
}

/** The SKU's flash-sale policy (defaults for a SKU never configured). */
export async function getSkuPolicy(env: Env, sku: string): Promise<SkuPolicy> {
  return coordinator(env, sku).getPolicy({ sku, shard: 0 });
}

/** A refused reservation; admission refusals name the waiting room to join. */
export interface ReserveRefused {
  ok: false;
  reason: ReserveRefusal;
  available: number;
  waiting_room?: string;
}

/** What `reserveStock` and `reserveOnAdd` take. */
export interface ReserveStockInput {
  sku: string;
  holder: string;
  customer?: string;
  quantity: number;
  ttlSeconds?: number;
  key: string;
  admission?: Admission;
  /** The key was minted for this call alone: a refusal is not stored under it (see ReserveInput). */
  singleUse?: boolean;
}

/**
 * Routes a reservation call to the shard that owns the customer (else holder), re-reading the
 * shard count while shards are being retired. Refusals lose the internal `shard_retired`.
 */
async function routeReservation<V extends ReservationView | null, X extends string = never>(
  env: Env,
  input: ReserveStockInput,
  call: (
    stub: ReturnType<typeof shardStub>,
    addr: { sku: string; shard: number },
    body: ReserveInput,
  ) => Promise<
    | { ok: true; reservation: V }
    | Extract<ReserveResult, { ok: false }>
    | { ok: false; reason: X; available: number; waiting_room?: undefined }
  >,
): Promise<{ ok: true; reservation: V } | ReserveRefused | { ok: false; reason: X; available: number }> {
  const { sku, holder, customer, quantity, ttlSeconds, key, admission, singleUse } = input;
  for (let attempt = 0; attempt < MAX_ROUTING_ATTEMPTS; attempt++) {
    const count = await shardCount(env, sku, attempt > 0);
    const shard = shardFor(customer ?? holder, count);
    const result = await call(
      shardStub(env, sku, shard),
      { sku, shard },
      {
        holder,
        customer: customer ?? null,
        quantity,
        ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
        key,
        ...(admission === undefined ? {} : { admission }),
        ...(singleUse ? { singleUse } : {}),
      },
    );
    if (result.ok) return { ok: true, reservation: result.reservation };
    // Only a client's key (an ops hold) can come back with other inputs; internal keys never do.
    if (result.reason === "idempotency_key_reused") throw idempotencyKeyReused();
    if (result.reason !== "shard_retired") {
      return {
        ok: false,
        reason: result.reason,
        available: result.available,
        ...(result.waiting_room === undefined ? {} : { waiting_room: result.waiting_room }),
      } as ReserveRefused | { ok: false; reason: X; available: number };
    }
  }
  throw new Error(`inventory routing for ${sku} did not settle`);
}

/**
 * Reserves units for a holder (cart or checkout). All of a customer's (else holder's)
 * reservations land on one shard so purchase limits are exact. Unknown SKUs have no stock.
 * `admission` carries the shopper's waiting-room admissions: a SKU whose sale has a waiting
 * room refuses without a valid one (`"exempt"` for ops holds and paid-order recovery).
 */
export function reserveStock(
  env: Env,
  input: ReserveStockInput,
): Promise<{ ok: true; reservation: ReservationView } | ReserveRefused> {
  return routeReservation<ReservationView>(env, input, async (stub, addr, body) => stub.reserve(addr, body));
}

/**
 * Add-to-cart: reserves only if the SKU's policy holds stock from add-to-cart (flash sales),
 * else answers `reservation: null`; `customer_required` when the sale limits units per
 * customer and the cart has not said who that is. One object call, where asking for the
 * policy first took two.
 */
export function reserveOnAdd(
  env: Env,
  input: ReserveStockInput,
): Promise<
  | { ok: true; reservation: ReservationView | null }
  | ReserveRefused
  | { ok: false; reason: "customer_required"; available: number }
> {
  return routeReservation<ReservationView | null, "customer_required">(env, input, async (stub, addr, body) =>
    stub.reserveOnAdd(addr, body),
  );
}

/** Changes a held reservation's quantity atomically; growing it is gated like `reserveStock`. */
export async function resizeReservation(
  env: Env,
  input: {
    sku: string;
    reservationId: string;
    quantity: number;
    key: string;
    admission?: Admission;
    singleUse?: boolean;
  },
): Promise<ResizeResult> {
  const shard = shardOfReservation(input.reservationId);
  if (shard === null) return { ok: false, reason: "not_found", available: 0 };
  return shardStub(env, input.sku, shard).resize(
    { sku: input.sku, shard },
    {
      reservationId: input.reservationId,
      quantity: input.quantity,
      key: input.key,
      ...(input.admission === undefined ? {} : { admission: input.admission }),
      ...(input.singleUse ? { singleUse: true } : {}),
    },
  );
}

/**
 * Pushes a held reservation's expiry to now + `ttlSeconds`, capped at the sale's TTL plus
 * `ttlSeconds` from its first grant; past the TTL a waiting room wants a live `admission`.
 */
export async function extendReservation(
  env: Env,
  input: { sku: string; reservationId: string; ttlSeconds?: number; admission?: Admission },
): Promise<ExtendResult> {
  const shard = shardOfReservation(input.reservationId);
  if (shard === null) return { ok: false, reason: "not_found" };
  return shardStub(env, input.sku, shard).extend(
    { sku: input.sku, shard },
    {
      reservationId: input.reservationId,
      ...(input.ttlSeconds === undefined ? {} : { ttlSeconds: input.ttlSeconds }),
      ...(input.admission === undefined ? {} : { admission: input.admission }),
    },
  );
}

/** Returns a held reservation's deadline to the sale's TTL from its first grant (a checkout failed). */
export async function curtailReservation(
  env: Env,
  input: { sku: string; reservationId: string },
): Promise<CurtailResult> {
  const shard = shardOfReservation(input.reservationId);
  if (shard === null) return { ok: false, reason: "not_found" };
  return shardStub(env, input.sku, shard).curtail(
    { sku: input.sku, shard },
    { reservationId: input.reservationId },
  );
}

export type TransferResult =
  | { ok: true; reservation: ReservationView }
  | { ok: false; reason: "not_found" | "not_held" | "limit_exceeded" | "insufficient_stock" };

/**
 * Makes a held reservation count for `customer` (normalised identity), checking the sale's
 * per-customer limit for them. A customer's holds of a sharded SKU all live on the shard
 * their identity routes to, so limits stay exact: a hold on another shard moves there first
 * (same first grant and deadline, so moving never renews it), then the old one is released.
 */
export async function transferReservation(
  env: Env,
  input: { sku: string; reservationId: string; customer: string; key: string },
): Promise<TransferResult> {
  const { sku, reservationId, customer } = input;
  const source = shardOfReservation(reservationId);
  if (source === null) return { ok: false, reason: "not_found" };
  const target = shardFor(customer, await shardCount(env, sku, false));
  if (target === source) {
    return shardStub(env, sku, source).reassign({ sku, shard: source }, { reservationId, customer });
  }
  const held = await shardStub(env, sku, source).reservation({ sku, shard: source }, { reservationId });
  if (!held) return { ok: false, reason: "not_found" };
  if (held.status !== "held") return { ok: false, reason: "not_held" };
  const moved = await shardStub(env, sku, target).reserve(
    { sku, shard: target },
    {
      holder: held.holder,
      customer,
      quantity: held.quantity,
      key: input.key,
      // Not new stock for the shopper: the units were granted (and admitted) already.
      admission: "exempt",
      carry: { createdAt: Date.parse(held.created_at), expiresAt: Date.parse(held.expires_at) },
    },
  );
  if (!moved.ok) {
    return { ok: false, reason: moved.reason === "limit_exceeded" ? "limit_exceeded" : "insufficient_stock" };
  }
  await releaseReservation(env, { sku, reservationId });
  return moved;
}

/** Releases a held reservation; idempotent (released or expired is fine). */
export async function releaseReservation(
  env: Env,
  input: { sku: string; reservationId: string },
): Promise<ReleaseResult> {
  const shard = shardOfReservation(input.reservationId);
  if (shard === null) return { ok: false, reason: "not_found" };
  return shardStub(env, input.sku, shard).release(
    { sku: input.sku, shard },
    { reservationId: input.reservationId },
  );
}

/**
 * Turns a held reservation into a sale; idempotent for the same order. Besides the contract's
 * refusals, committing a reservation already sold to a different order is refused.
 */
export async function commitReservation(
  env: Env,
  input: { sku: string; reservationId: string; orderId: string; customer?: string },
): Promise<CommitResult> {
  const shard = shardOfReservation(input.reservationId);
  if (shard === null) return { ok: false, reason: "not_found" };
  return shardStub(env, input.sku, shard).commit(
    { sku: input.sku, shard },
    {
      reservationId: input.reservationId,
      orderId: input.orderId,
      ...(input.customer === undefined ? {} : { customer: input.customer }),
    },
  );
}

/** An order was cancelled: its units go back to available, audited; idempotent by key. */
export async function returnCommitted(
  env: Env,
  input: { sku: string; reservationId: string; reason: string; key: string },
): Promise<ReturnResult> {
  const shard = shardOfReservation(input.reservationId);
  if (shard === null) return { ok: false, reason: "not_found" };
  return shardStub(env, input.sku, shard).returnCommitted(
    { sku: input.sku, shard },
    { reservationId: input.reservationId, reason: input.reason, key: input.key },
  );
}

export type AvailabilityStatus = "in_stock" | "low" | "sold_out";

/**
 * Public availability from the published KV snapshot, never from the objects. Stale by at
 * most the 1 s publish throttle plus KV propagation (immediate at the writing location,
 * up to ~60 s elsewhere). `available` is only disclosed when stock is low.
 */
export async function getAvailability(
  env: Env,
  skus: string[],
): Promise<Record<string, { status: AvailabilityStatus; available: number | null }>> {
  const entries = await Promise.all(
    [...new Set(skus)].map(async (sku) => {
      const available = await publishedAvailable(env, sku);
      const status: AvailabilityStatus =
        available <= 0 ? "sold_out" : available <= LOW_STOCK_THRESHOLD ? "low" : "in_stock";
      return [sku, { status, available: status === "in_stock" ? null : Math.max(0, available) }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

async function publishedAvailable(env: Env, sku: string): Promise<number> {
  const head = await readSnapshot(env, sku, 0);
  if (!head) return 0;
  // Sharded SKUs: the coordinator's pool plus shards 1..N (retired shards hold nothing available).
  const count = head.shard_count > 1 ? head.shard_count : 0;
  const shards = await Promise.all(Array.from({ length: count }, (_, i) => readSnapshot(env, sku, i + 1)));
  return shards.reduce((total, s) => total + (s?.available ?? 0), head.available);
}

async function readSnapshot(env: Env, sku: string, shard: number) {
  const raw = await env.CATALOG_KV.get(availabilityKey(sku, shard), "json");
  const parsed = PublishedAvailabilitySchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Exact per-SKU counters across shards, the policy, live reservations and recent adjustments. */
/** Held and recently committed reservations of a SKU across its shards, for the auditor. */
export async function getLedger(env: Env, sku: string, since: number): Promise<SkuLedger> {
  return shardStub(env, sku, 0).ledger({ sku, shard: 0 }, { since });
}

export async function getInventory(env: Env, sku: string): Promise<SkuView> {
  return coordinator(env, sku).skuView({ sku, shard: 0 });
}

/** Sets the SKU's on-hand total; refused below what is reserved + sold. */
export async function setStock(
  env: Env,
  input: { sku: string; onHand: number; reason: string; key: string },
): Promise<StockChangeResult> {
  return coordinator(env, input.sku).changeStock(
    { sku: input.sku, shard: 0 },
    { mode: "set", value: input.onHand, reason: input.reason, key: input.key },
  );
}

/** Adds `delta` (may be negative) to the SKU's on-hand with a reason; refused below reserved + sold. */
export async function adjustStock(
  env: Env,
  input: { sku: string; delta: number; reason: string; key: string },
): Promise<StockChangeResult> {
  return coordinator(env, input.sku).changeStock(
    { sku: input.sku, shard: 0 },
    { mode: "adjust", value: input.delta, reason: input.reason, key: input.key },
  );
}

/** Updates the sale policy and/or the shard count (re-sharding a live SKU is safe). */
export async function configureSale(
  env: Env,
  input: { sku: string; policy: Partial<SkuPolicy>; shards?: number },
): Promise<{ policy: SkuPolicy; shard_count: number }> {
  const result = await coordinator(env, input.sku).configure(
    { sku: input.sku, shard: 0 },
    { policy: input.policy, ...(input.shards === undefined ? {} : { shards: input.shards }) },
  );
  routingCache.delete(input.sku);
  return result;
}

/**
 * Applies `inventory.level` events to D1's reporting copy. Newer `level_version` wins, so
 * duplicates and out-of-order deliveries are harmless.
 */
export async function applyLevelEvents(env: Env, events: InventoryLevelEvent[]): Promise<void> {
  if (events.length === 0) return;
  const db = database(env.DB);
  const now = Date.now();
  const statements = events.map((e) =>
    db
      .insert(inventoryLevels)
      .values({
        sku: e.sku,
        shard: e.shard,
        levelVersion: e.level_version,
        onHand: e.on_hand,
        available: e.available,
        reserved: e.reserved,
        sold: e.sold,
        skuOnHand: e.sku_on_hand,
        occurredAt: Date.parse(e.occurred_at),
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: [inventoryLevels.sku, inventoryLevels.shard],
        set: {
          levelVersion: sql`excluded.level_version`,
          onHand: sql`excluded.on_hand`,
          available: sql`excluded.available`,
          reserved: sql`excluded.reserved`,
          sold: sql`excluded.sold`,
          skuOnHand: sql`excluded.sku_on_hand`,
          occurredAt: sql`excluded.occurred_at`,
          updatedAt: sql`excluded.updated_at`,
        },
        setWhere: sql`excluded.level_version > ${inventoryLevels.levelVersion}`,
      }),
  );
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

/**
 * Stocks SKUs that have never been stocked (`known: false`), leaving every SKU a merchant has
 * touched alone, so a demo seed or an import can be re-run safely. At most 16 objects at once.
 */
export async function initialiseStock(
  env: Env,
  items: readonly { sku: string; on_hand: number }[],
): Promise<{ initialised: number; skipped: number }> {
  let initialised = 0;
  let skipped = 0;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (!item) break;
      const view = await getInventory(env, item.sku);
      if (view.known) {
        skipped++;
        continue;
      }
      const result = await setStock(env, {
        sku: item.sku,
        onHand: item.on_hand,
        reason: "initial stock",
        key: `initial:${item.sku}`,
      });
      if (result.ok) initialised++;
      else skipped++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, items.length) }, worker));
  return { initialised, skipped };
}
