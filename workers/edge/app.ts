import { OpenAPIHono } from "@hono/zod-openapi";
import { cartRoutes } from "../cart/routes";
import { catalogAdminRoutes } from "../catalog/admin-routes";
import { catalogRoutes } from "../catalog/routes";
import { checkoutRoutes } from "../checkout/routes";
import { applyPaymentOutcome } from "../checkout/service";
import { consoleRoutes } from "../console/routes";
import { adminEventRoutes } from "../events/routes";
import { devReceiverRoutes } from "../fulfilment/dev-receiver";
import { inventoryAdminRoutes } from "../inventory/admin-routes";
import { initialStockRoutes } from "../inventory/initial-stock-routes";
import { inventoryLevelRoutes } from "../inventory/level-routes";
import { inventoryRoutes } from "../inventory/routes";
import { bodyLimit } from "../lib/body-limit";
import { cors } from "../lib/cors";
import { degradedResponses } from "../lib/degraded";
import type { AppEnv } from "../lib/env";
import { notFoundHandler, problemHandler } from "../lib/error-handler";
import { cartKey, clientCartKey, clientKey, rateLimit, WRITE_METHODS } from "../lib/rate-limit";
import { requestId } from "../lib/request-id";
import { requestLogger } from "../lib/request-logger";
import { securityHeaders } from "../lib/security-headers";
import { serverTiming } from "../lib/server-timing";
import { throwOnInvalid } from "../lib/validation";
import { versionAffinity } from "../lib/version-affinity";
import { versionHeaders } from "../lib/version-headers";
import { renderApiReference } from "../ops/api-reference";
import { overviewRoutes } from "../ops/overview-routes";
import { opsRoutes } from "../ops/routes";
import { orderActionRoutes } from "../orders/action-routes";
import { orderRoutes } from "../orders/routes";
import type { PaymentOutcomeHandler } from "../payments/provider";
import { paymentConfigRoutes } from "../payments/routes";
import { createPaymentWebhookRoutes } from "../payments/webhook-routes";
import { promotionAdminRoutes } from "../promotions/routes";
import { searchRoutes } from "../search/routes";
import { storefrontRoutes } from "../storefront/routes";
import { waitingRoomAdminRoutes } from "../waiting-room/admin-routes";
import { waitingRoomRoutes } from "../waiting-room/routes";

const OPENAPI_INFO = {
  title: "Popcart API",
  version: "1.0.0",
  description:
    "Edge-first commerce runtime. Money is integer minor units plus an ISO 4217 currency; errors are application/problem+json with a stable `code`. " +
    "Every response carries `x-request-id`, `x-popcart-version` (and `x-popcart-version-tag`) and `Server-Timing`; " +
    "cart and checkout responses carry `x-popcart-version-key`, to send back as `Cloudflare-Workers-Version-Key`. " +
    "Rate-limited requests answer 429 `rate_limited` with `Retry-After`. " +
    "While D1 is unavailable, catalog reads are served from their last good copy with `Popcart-Degraded: d1`, " +
    "and what needs D1 answers 503 `database_unavailable` with `Retry-After` instead of waiting.",
};

export interface AppOptions {
  /** What a verified payment outcome is handed to; tests swap in a recorder. */
  paymentOutcomeHandler?: PaymentOutcomeHandler;
}

/** Builds the edge app: cross-cutting middleware, then one sub-app per domain. */
export function createApp(options: AppOptions = {}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: throwOnInvalid });

  app.use(
    "*",
    requestId(),
    versionHeaders(),
    securityHeaders(),
    serverTiming(),
    requestLogger(),
    degradedResponses(),
    bodyLimit(),
  );
  app.use("/api/*", cors());
  // Keep a shopper's cart and checkout on one version during a gradual rollout.
  app.use("/api/carts", versionAffinity());
  app.use("/api/carts/:id/*", versionAffinity({ cartIdParam: "id" }));
  app.use("/api/checkouts/*", versionAffinity());
  // Bearer-token auth is the admin API's login: bound guessing per client.
  app.use("/admin/api/*", rateLimit({ binding: "ADMIN_RATE_LIMITER", key: clientKey, periodSeconds: 60 }));
  // Shopper abuse limits (README.md#rate-limits): per cart for writes and checkout attempts,
  // per client for cart creation and stock-reserving line changes, client+cart for codes.
  app.use(
    "/api/carts",
    rateLimit({ binding: "CART_WRITE_RATE_LIMITER", key: clientKey, periodSeconds: 10, methods: ["POST"] }),
  );
  app.use(
    "/api/carts/:id/*",
    rateLimit({
      binding: "CART_WRITE_RATE_LIMITER",
      key: cartKey(),
      periodSeconds: 10,
      methods: WRITE_METHODS,
    }),
  );
  for (const path of ["/api/carts/:id/lines", "/api/carts/:id/lines/*"]) {
    app.use(
      path,
      rateLimit({
        binding: "RESERVATION_RATE_LIMITER",
        key: clientKey,
        periodSeconds: 10,
        methods: ["POST", "PATCH"],
      }),
    );
  }
  app.use(
    "/api/carts/:id/promotions",
    rateLimit({
      binding: "PROMO_CODE_RATE_LIMITER",
      key: clientCartKey(),
      periodSeconds: 60,
      methods: ["POST"],
    }),
  );
  app.use(
    "/api/carts/:id/checkout",
    rateLimit({ binding: "CHECKOUT_RATE_LIMITER", key: cartKey(), periodSeconds: 60, methods: ["POST"] }),
  );
  app.use(
    "/api/checkouts/:id/confirm",
    rateLimit({
      binding: "CHECKOUT_RATE_LIMITER",
      key: (c) => `checkout:${c.req.param("id")}`,
      periodSeconds: 60,
      methods: ["POST"],
    }),
  );
  app.use(
    "/api/waiting-rooms/:room/tickets",
    rateLimit({
      binding: "WAITING_ROOM_JOIN_RATE_LIMITER",
      key: clientKey,
      periodSeconds: 10,
      methods: ["POST"],
    }),
  );
  app.onError(problemHandler);
  app.notFound(notFoundHandler);

  app.route("/", opsRoutes);
  app.route("/", searchRoutes);
  app.route("/api/carts", cartRoutes);
  app.route("/api", checkoutRoutes);
  app.route("/", createPaymentWebhookRoutes(options.paymentOutcomeHandler ?? applyPaymentOutcome));
  app.route("/admin/api/promotions", promotionAdminRoutes);
  app.route("/api", catalogRoutes);
  app.route("/admin/api", catalogAdminRoutes);
  app.route("/", storefrontRoutes);
  app.route("/admin/api/events", adminEventRoutes);
  app.route("/", devReceiverRoutes);
  app.route("/", paymentConfigRoutes);
  app.route("/", orderRoutes);
  app.route("/", orderActionRoutes);
  app.route("/", inventoryRoutes);
  app.route("/", initialStockRoutes);
  app.route("/", inventoryAdminRoutes);
  app.route("/", waitingRoomRoutes);
  app.route("/", waitingRoomAdminRoutes);
  app.route("/", inventoryLevelRoutes);
  app.route("/", overviewRoutes);
  // The console reaches the routes above in process, through this same app.
  app.route(
    "/admin",
    consoleRoutes((request, env, ctx) => Promise.resolve(app.fetch(request, env, ctx))),
  );

  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "Admin API token (scoped). Locally: ADMIN_TOKEN in .dev.vars.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "cartToken", {
    type: "apiKey",
    in: "header",
    name: "X-Cart-Token",
  });
  app.doc31("/openapi.json", { openapi: "3.1.0", info: OPENAPI_INFO });
  app.get("/docs", (c) =>
    c.html(renderApiReference(app.getOpenAPI31Document({ openapi: "3.1.0", info: OPENAPI_INFO }))),
  );

  return app;
}
