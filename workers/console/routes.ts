import { Hono } from "hono";
import type { AppEnv } from "../lib/env";
import type { Dispatch } from "./admin-api";
import { type ConsoleEnv, requireSession, verifyCsrf } from "./context";
import { dashboardSection } from "./sections/dashboard";
import { eventsSection } from "./sections/events";
import { inventorySection } from "./sections/inventory";
import { liveSection } from "./sections/live";
import { ordersSection } from "./sections/orders";
import { productsSection } from "./sections/products";
import { promotionsSection } from "./sections/promotions";
import { regionsSection } from "./sections/regions";
import { waitingRoomsSection } from "./sections/waiting-rooms";
import { signIn, signInPage, signOut } from "./sign-in";

const SECTIONS = {
  "/live": liveSection,
  "/inventory": inventorySection,
  "/waiting-rooms": waitingRoomsSection,
  "/orders": ordersSection,
  "/events": eventsSection,
  "/products": productsSection,
  "/promotions": promotionsSection,
  "/regions": regionsSection,
} as const;

/**
 * The admin console at `/admin`: server-rendered pages over the admin API. `dispatch` is the
 * edge app's own `fetch`, through which every read and write reaches the `/admin/api` routes
 * in process, acting as the session's token. Middleware is attached per section path, never
 * to `/admin/*`, so the JSON API under `/admin/api` is untouched by the console's session.
 */
export function consoleRoutes(dispatch: Dispatch) {
  const app = new Hono<ConsoleEnv>();
  const guard = [requireSession(dispatch), verifyCsrf()] as const;
  app.use("/", ...guard);
  app.route("/", dashboardSection);
  for (const [path, section] of Object.entries(SECTIONS)) {
    app.use(path, ...guard);
    app.use(`${path}/*`, ...guard);
    app.route(path, section);
  }
  return new Hono<AppEnv>()
    .get("/sign-in", signInPage)
    .post("/sign-in", signIn)
    .post("/sign-out", signOut)
    .route("/", app as unknown as Hono<AppEnv>);
}
