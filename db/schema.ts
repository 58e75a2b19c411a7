/**
 * The single drizzle schema for D1. Tables live one domain per file under `db/tables/`;
 * this barrel is what drizzle-kit and the query client see.
 */

export * from "./tables/admin-sessions";
export * from "./tables/audit";
export * from "./tables/catalog";
export * from "./tables/checkouts";
export * from "./tables/events";
export * from "./tables/fulfilment";
export * from "./tables/inventory";
export * from "./tables/orders";
export * from "./tables/payments";
export * from "./tables/promotions";
export * from "./tables/regions";
export * from "./tables/search";
