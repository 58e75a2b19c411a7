import { DurableObject } from "cloudflare:workers";

/** One object per cart. The revenue-path issue fills in lines, totals and expiry. */
export class CartObject extends DurableObject<Env> {}
