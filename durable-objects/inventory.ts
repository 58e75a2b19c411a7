import { DurableObject } from "cloudflare:workers";

/** One object per SKU (or SKU shard). The inventory issue fills in reservations. */
export class InventoryObject extends DurableObject<Env> {}
