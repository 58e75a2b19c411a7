import { applyActivity, applyGrant, giveBack } from "../../workers/inventory/counters";
import type { ShardConfig, SyncReply } from "../../workers/inventory/rpc";
import { objectName } from "../../workers/inventory/types";
import { log } from "../../workers/lib/logging";
import type { StateRow } from "../inventory-storage";
import type { InventoryStore } from "./store";

/**
 * Shard-only behaviour (objects `sku:<SKU>#n`, n ≥ 1; see the protocol in
 * `durable-objects/inventory.ts`): pulling units from the coordinator, pushing back the units
 * it handed back, and answering the coordinator's steals and configuration pushes.
 */
export class ShardSide {
  private pulling: Promise<SyncReply> | null = null;
  private pushing: Promise<void> | null = null;

  constructor(private readonly store: InventoryStore) {}

  /** Fetches at least `need` units if the SKU has them; true when the coordinator has none left. */
  async acquire(need: number): Promise<boolean> {
    // Concurrent buyers on this shard share one pull; a buyer still short afterwards pulls again.
    if (!this.pulling) {
      this.pulling = this.pull(need).finally(() => {
        this.pulling = null;
      });
    }
    return (await this.pulling).exhausted;
  }

  /** One exchange with the coordinator: our returns go, its grant (and configuration) comes back. */
  private async pull(want: number): Promise<SyncReply> {
    const { st } = this.store;
    const reply = await this.store
      .stub(0)
      .sync({ sku: st.sku, shard: 0 }, { shard: st.shard, returnedTotal: st.returned_total, want });
    this.store.mutate((s) => {
      applyGrant(s, reply.grantedTotal);
      s.returned_acked = Math.max(s.returned_acked, reply.returnedSeen);
      adoptConfig(s, { ...reply });
    });
    return reply;
  }

  /** Retired shards return freed units to the coordinator; retried from the alarm until acknowledged. */
  async pushReturns(): Promise<void> {
    for (let attempt = 0; attempt < 3 && this.store.returnsPending(); attempt++) {
      this.pushing ??= this.pull(0)
        .then(() => undefined)
        .finally(() => {
          this.pushing = null;
        });
      try {
        await this.pushing;
      } catch (error) {
        log("warn", "inventory_return_push_failed", {
          object: objectName(this.store.st),
          error: String(error),
        });
        return;
      }
    }
  }

  /** A steal: apply any grant in transit, then hand back up to `want` available units. */
  giveBack(input: { grantedTotal: number; want: number }) {
    this.store.sweep(Date.now());
    return this.store.mutate((s) => {
      applyGrant(s, input.grantedTotal);
      const { remaining } = giveBack(s, input.want);
      return { returnedTotal: s.returned_total, remaining, grantedSeen: s.granted_seen };
    });
  }

  /** A configuration push; retiring shards hand back all available units. */
  applyConfig(config: ShardConfig) {
    this.store.sweep(Date.now());
    return this.store.mutate((s) => {
      applyGrant(s, config.grantedTotal);
      adoptConfig(s, config);
      return { returnedTotal: s.returned_total };
    });
  }

  /** What the shard's on-hand must be: everything granted minus everything handed back. */
  expectedOnHand(): number {
    return this.store.st.granted_seen - this.store.st.returned_total;
  }
}

/** Adopts a newer configuration (an older or repeated one changes nothing). */
function adoptConfig(s: StateRow, config: Omit<ShardConfig, "grantedTotal">): void {
  if (config.configVersion <= s.config_version) return;
  s.config_version = config.configVersion;
  s.shard_count = config.shardCount;
  s.policy = JSON.stringify(config.policy);
  applyActivity(s, config.active);
}
