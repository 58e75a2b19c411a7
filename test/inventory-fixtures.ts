import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { objectName } from "../workers/inventory/types";
import { ADMIN, callJson } from "./helpers";

/** A SKU code no other test uses. */
export const randomSku = (label = "SKU") => `${label}-${crypto.randomUUID().slice(0, 12)}`;

export const coordinator = (sku: string) => env.INVENTORY.getByName(objectName({ sku, shard: 0 }));
export const shard = (sku: string, n: number) => env.INVENTORY.getByName(objectName({ sku, shard: n }));

/** Sets stock (and optionally the sale config) through the admin API, as merchants do. */
export async function stockSku(sku: string, onHand: number, sale?: Record<string, unknown>) {
  if (sale) {
    const res = await callJson(`/admin/api/inventory/${sku}/sale`, "PUT", sale, ADMIN);
    if (res.status !== 200) throw new Error(`sale config failed: ${res.status} ${await res.text()}`);
  }
  const res = await callJson(`/admin/api/inventory/${sku}`, "PUT", { on_hand: onHand }, ADMIN);
  if (res.status !== 200) throw new Error(`set stock failed: ${res.status} ${await res.text()}`);
}

/** Checks every object of the SKU against its own ledger and the per-SKU sum identity. */
export async function expectConsistent(sku: string) {
  const view = await coordinator(sku).skuView({ sku, shard: 0 });
  const problems: string[] = [];
  for (const s of view.shards) {
    const report = await env.INVENTORY.getByName(objectName({ sku, shard: s.shard })).checkInvariants({
      sku,
      shard: s.shard,
    });
    problems.push(...report.violations.map((v) => `shard ${s.shard}: ${v}`));
    if (s.available + s.reserved + s.sold !== s.on_hand)
      problems.push(`shard ${s.shard}: counters do not add up`);
  }
  if (view.available + view.reserved + view.sold !== view.on_hand) {
    problems.push(`sku: ${view.available}+${view.reserved}+${view.sold} != ${view.on_hand}`);
  }
  if (view.available < 0) problems.push(`sku available ${view.available} < 0`);
  if (problems.length > 0) throw new Error(problems.join("; "));
  return view;
}

/**
 * Moves one inventory object `ms` into the future through its storage (reservation grant
 * times and deadlines, the last snapshot publication), then restarts it so it reloads them:
 * what waiting would do, without the wait.
 */
export async function elapse(stub: DurableObjectStub, ms: number): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      "UPDATE reservations SET expires_at = expires_at - ?1, created_at = created_at - ?1",
      ms,
    );
    state.storage.sql.exec("UPDATE state SET published_at = published_at - ?1", ms);
  });
  await evictDurableObject(stub);
}
