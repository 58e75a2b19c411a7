import type { DurableObject } from "cloudflare:workers";
import type { CartObject } from "../../durable-objects/cart";
import type { InventoryObject } from "../../durable-objects/inventory";
import type { WaitingRoomObject } from "../../durable-objects/waiting-room";

type RpcMethod<T> = Exclude<keyof T, keyof DurableObject>;

/** Every public RPC method of `T`, checked by the compiler: a method missing here fails tsc. */
function rpcMethods<T>() {
  return <const M extends readonly RpcMethod<T>[]>(
    methods: M & (Exclude<RpcMethod<T>, M[number]> extends never ? unknown : "missing methods"),
  ) => methods;
}

/** The cart object's RPC surface (callers: workers/cart, workers/checkout, payment outcomes). */
export const CART_RPC = rpcMethods<CartObject>()([
  "create",
  "view",
  "addLine",
  "updateLine",
  "removeLine",
  "setEmail",
  "setShippingAddress",
  "setShippingMethod",
  "addPromotion",
  "removePromotion",
  "checkout",
  "getCheckout",
  "checkoutPayment",
  "confirmTestCheckout",
  "applyPaymentOutcome",
  "reconcile",
  "holdsInUse",
]);

/** The inventory object's RPC surface (callers: workers/inventory/service.ts and other shards). */
export const INVENTORY_RPC = rpcMethods<InventoryObject>()([
  "reserve",
  "reserveOnAdd",
  "resize",
  "extend",
  "curtail",
  "reassign",
  "reservation",
  "release",
  "commit",
  "returnCommitted",
  "changeStock",
  "configure",
  "routing",
  "getPolicy",
  "skuView",
  "sync",
  "giveBack",
  "applyConfig",
  "snapshot",
  "checkInvariants",
  "ledger",
  "ledgerEntries",
]);

/** The waiting room's RPC surface (callers: workers/waiting-room/service.ts). */
export const WAITING_ROOM_RPC = rpcMethods<WaitingRoomObject>()(["configure", "status", "join", "ticket"]);
