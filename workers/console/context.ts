import type { Context, ExecutionContext, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { type AdminScope, grants } from "../lib/admin-auth";
import type { AppVariables } from "../lib/env";
import { sameOrigin } from "../lib/same-origin";
import { AdminApi, type Dispatch } from "./admin-api";
import { type ConsoleSession, csrfMatches, readSession, SESSION_COOKIE, sessionSecret } from "./session";

export interface ConsoleVariables extends AppVariables {
  session: ConsoleSession;
  api: AdminApi;
}

/** Hono environment of the console's routes: a signed-in session and its admin API client. */
export interface ConsoleEnv {
  Bindings: Env;
  Variables: ConsoleVariables;
}

export type ConsoleContext = Context<ConsoleEnv>;

/** Whether the signed-in token grants `scope`. */
export const can = (c: ConsoleContext, scope: AdminScope): boolean =>
  grants(c.get("session").principal.scopes, scope);

function executionContext(c: Context): ExecutionContext | undefined {
  try {
    return c.executionCtx;
  } catch {
    // app.request() in tests has no execution context; waitUntil work then runs inline.
    return undefined;
  }
}

/**
 * Loads the session from its cookie; without one, pages redirect to sign-in (keeping where
 * the user was going) and everything else answers 401.
 */
export const requireSession = (dispatch: Dispatch): MiddlewareHandler<ConsoleEnv> =>
  async function requireSession(c, next) {
    const secret = sessionSecret(c.env);
    const session = secret ? await readSession(c.env, secret, getCookie(c, SESSION_COOKIE, "host")) : null;
    if (!session) {
      const url = new URL(c.req.url);
      if (c.req.method === "GET" && c.req.header("accept")?.includes("text/html")) {
        const next = `${url.pathname}${url.search}`;
        return c.redirect(`/admin/sign-in?next=${encodeURIComponent(next)}`, 303);
      }
      return c.text("Sign in first.", 401, { "cache-control": "no-store" });
    }
    c.set("session", session);
    const origin = new URL(c.req.url).origin;
    c.set("api", new AdminApi(dispatch, c.env, session.principal, origin, executionContext(c)));
    c.get("log").fields.admin_token = session.principal.id;
    await next();
    c.header("cache-control", "no-store");
  };

/**
 * Every console form posts `_csrf`, the session's token, from our own origin (`sameOrigin`:
 * a cross-site Origin or Sec-Fetch-Site is refused outright, on top of the token check and
 * SameSite=Strict); anything else is refused with 403.
 */
export const verifyCsrf = (): MiddlewareHandler<ConsoleEnv> =>
  async function verifyCsrf(c, next) {
    if (c.req.method !== "POST") return next();
    const body = await c.req.parseBody();
    if (!sameOrigin(c) || !(await csrfMatches(c.get("session").csrf, body._csrf))) {
      c.get("log").fields.csrf = "refused";
      return c.text(
        "This form expired or did not come from the console. Reload the page and try again.",
        403,
        {
          "cache-control": "no-store",
        },
      );
    }
    await next();
  };
