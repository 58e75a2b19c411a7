import { OpenAPIHono } from "@hono/zod-openapi";
import { auditAdminRoutes } from "../audit/admin-routes";
import { cartRoutes } from "../cart/routes";
import { catalogAdminRoutes } from "../catalog/admin-routes";
import { catalogRoutes } from "../catalog/routes";
import { checkoutRoutes } from "../checkout/routes";
import { applyPaymentOutcome } from "../checkout/service";
import { consoleRoutes } from "../console/routes";
import { eventAdminRoutes } from "../events/admin-routes";
import { devReceiverRoutes } from "../fulfilment/dev-receiver";
import { inventoryAdminRoutes } from "../inventory/admin-routes";
import { inventoryRoutes } from "../inventory/routes";
import { bodyLimit } from "../lib/body-limit";
import { cors } from "../lib/cors";
import { degradedResponses } from "../lib/degraded";
import type { AppEnv } from "../lib/env";
import { notFoundHandler, problemHandler } from "../lib/error-handler";
import { rateLimit } from "../lib/rate-limit";
import { requestId } from "../lib/request-id";
import { requestLogger } from "../lib/request-logger";
import { securityHeaders } from "../lib/security-headers";
import { serverTiming } from "../lib/server-timing";
import { throwOnInvalid } from "../lib/validation";
import { versionAffinity } from "../lib/version-affinity";
import { versionHeaders } from "../lib/version-headers";
import { opsAdminRoutes } from "../ops/admin-routes";
import { renderApiReference } from "../ops/api-reference";
import { openApiDocument } from "../ops/openapi-document";
import { opsRoutes } from "../ops/routes";
import { orderAdminRoutes } from "../orders/admin-routes";
import { orderRoutes } from "../orders/routes";
import type { PaymentOutcomeHandler } from "../payments/provider";
import { paymentConfigRoutes } from "../payments/routes";
import { createPaymentWebhookRoutes } from "../payments/webhook-routes";
import { promotionAdminRoutes } from "../promotions/admin-routes";
import { regionAdminRoutes } from "../regions/admin-routes";
import { searchRoutes } from "../search/routes";
import { storefrontRoutes } from "../storefront/routes";
import { waitingRoomAdminRoutes } from "../waiting-room/admin-routes";
import { waitingRoomRoutes } from "../waiting-room/routes";
import { ROUTE_RATE_LIMITS } from "./rate-limits";

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
  for (const { path, ...limit } of ROUTE_RATE_LIMITS) app.use(path, rateLimit(limit));
  app.onError(problemHandler);
  app.notFound(notFoundHandler);

  app.route("/", opsRoutes);
  app.route("/", searchRoutes);
  app.route("/api/carts", cartRoutes);
  app.route("/api", checkoutRoutes);
  app.route("/", createPaymentWebhookRoutes(options.paymentOutcomeHandler ?? applyPaymentOutcome));
  app.route("/admin/api/promotions", promotionAdminRoutes);
  app.route("/admin/api/regions", regionAdminRoutes);
  app.route("/api", catalogRoutes);
  app.route("/admin/api", catalogAdminRoutes);
  app.route("/", storefrontRoutes);
  app.route("/admin/api/events", eventAdminRoutes);
  app.route("/admin/api", auditAdminRoutes);
  app.route("/", devReceiverRoutes);
  app.route("/", paymentConfigRoutes);
  app.route("/", orderRoutes);
  app.route("/", orderAdminRoutes);
  app.route("/", inventoryRoutes);
  app.route("/", inventoryAdminRoutes);
  app.route("/", waitingRoomRoutes);
  app.route("/", waitingRoomAdminRoutes);
  app.route("/", opsAdminRoutes);
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
  // Built on first request, then reused: the routes cannot change while the isolate lives.
  let document: ReturnType<typeof openApiDocument> | undefined;
  const apiDocument = () => (document ??= openApiDocument(app));
  app.get("/openapi.json", (c) => c.json(apiDocument()));
  app.get("/docs", (c) => c.html(renderApiReference(apiDocument())));

  return app;
}
