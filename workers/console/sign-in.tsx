import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { FC } from "hono/jsx";
import { resolveToken } from "../lib/admin-auth";
import type { AppEnv } from "../lib/env";
import { log } from "../lib/logging";
import { clientKey } from "../lib/rate-limit";
import { sameOrigin } from "../lib/same-origin";
import { ConsoleLayout } from "./layout";
import { render } from "./render";
import {
  csrfMatches,
  newSignInToken,
  openSession,
  readSession,
  revokeSession,
  SESSION_COOKIE,
  SESSION_TTL_SECONDS,
  SIGN_IN_COOKIE,
  sessionSecret,
} from "./session";

const SIGN_IN_PERIOD_SECONDS = 60;

/** Where to go after signing in: a console path only, never another site or `//host`. */
export function safeNext(value: unknown): string {
  if (typeof value !== "string" || !/^\/admin(\/|\?|$)/.test(value)) return "/admin";
  if (value.includes("//") || value.includes("\\")) return "/admin";
  return value;
}

const SignInPage: FC<{ csrf: string; next: string; error?: string | undefined }> = ({
  csrf,
  next,
  error,
}) => (
  <ConsoleLayout title="Sign in" error={error}>
    <section class="sign-in-panel">
      <h1>Sign in</h1>
      <p>
        Paste an admin API token. The console acts with that token's scopes; sections it cannot read are
        hidden.
      </p>
      <form method="post" action="/admin/sign-in">
        <input type="hidden" name="_csrf" value={csrf} />
        <input type="hidden" name="next" value={next} />
        <div class="field">
          <label for="f-token">Admin token</label>
          <input id="f-token" name="token" type="password" autocomplete="current-password" required />
        </div>
        <button type="submit">Sign in</button>
      </form>
    </section>
  </ConsoleLayout>
);

async function showSignIn(c: Context<AppEnv>, status: 200 | 401 | 403 | 429 | 503, error?: string) {
  const csrf = newSignInToken();
  setCookie(c, SIGN_IN_COOKIE, csrf, { prefix: "host", httpOnly: true, sameSite: "Strict", maxAge: 15 * 60 });
  const next = safeNext(c.req.query("next") ?? (await formValue(c, "next")));
  return render(c, <SignInPage csrf={csrf} next={next} error={error} />, status);
}

async function formValue(c: Context<AppEnv>, name: string): Promise<string | undefined> {
  if (c.req.method !== "POST") return undefined;
  const value = (await c.req.parseBody())[name];
  return typeof value === "string" ? value : undefined;
}

/** Bounds token guessing through the form, per client (one shared key off Cloudflare). */
async function signInAllowed(c: Context<AppEnv>): Promise<boolean> {
  const limiter = c.env.ADMIN_SIGN_IN_RATE_LIMITER;
  if (!limiter) return true;
  try {
    const { success } = await limiter.limit({ key: `sign-in:${clientKey(c) ?? "unknown-client"}` });
    return success;
  } catch (error) {
    // Fail open like every other limiter: an outage must not lock staff out mid-sale.
    log("warn", "rate_limiter_failed", { binding: "ADMIN_SIGN_IN_RATE_LIMITER", error: String(error) });
    return true;
  }
}

export const signInPage = (c: Context<AppEnv>) => {
  if (!sessionSecret(c.env))
    return showSignIn(c, 503, "The console is not configured: set ADMIN_SESSION_SECRET.");
  return showSignIn(c, 200);
};

/**
 * Verifies the token like the bearer API does and opens a session. The attempt is counted
 * before the token is checked, and the form must echo the double-submit cookie.
 */
export async function signIn(c: Context<AppEnv>) {
  const secret = sessionSecret(c.env);
  if (!secret) return showSignIn(c, 503, "The console is not configured: set ADMIN_SESSION_SECRET.");
  const body = await c.req.parseBody();
  const expected = getCookie(c, SIGN_IN_COOKIE, "host");
  if (!sameOrigin(c) || !expected || !(await csrfMatches(expected, body._csrf))) {
    return showSignIn(c, 403, "The sign-in form expired. Try again.");
  }
  if (!(await signInAllowed(c))) {
    c.get("log").fields.rate_limited = "ADMIN_SIGN_IN_RATE_LIMITER";
    c.header("Retry-After", String(SIGN_IN_PERIOD_SECONDS));
    return showSignIn(
      c,
      429,
      `Too many sign-in attempts. Wait ${SIGN_IN_PERIOD_SECONDS} seconds and try again.`,
    );
  }
  const token = typeof body.token === "string" ? body.token.trim() : "";
  const principal = token && token.length <= 512 ? await resolveToken(c.env, token) : null;
  if (!principal) {
    c.get("log").fields.sign_in = "refused";
    return showSignIn(c, 401, "That token is not valid.");
  }
  const { cookie } = await openSession(c.env, secret, principal);
  setCookie(c, SESSION_COOKIE, cookie, {
    prefix: "host",
    httpOnly: true,
    sameSite: "Strict",
    maxAge: SESSION_TTL_SECONDS,
  });
  deleteCookie(c, SIGN_IN_COOKIE, { prefix: "host" });
  c.get("log").fields.admin_token = principal.id;
  return c.redirect(safeNext(body.next), 303);
}

/** Revokes the session server-side (a copied cookie dies too) and clears it. */
export async function signOut(c: Context<AppEnv>) {
  const secret = sessionSecret(c.env);
  const session = secret ? await readSession(c.env, secret, getCookie(c, SESSION_COOKIE, "host")) : null;
  const body = await c.req.parseBody();
  if (!session || !sameOrigin(c) || !(await csrfMatches(session.csrf, body._csrf))) {
    return c.text("This form expired or did not come from the console.", 403);
  }
  await revokeSession(c.env, session.id);
  deleteCookie(c, SESSION_COOKIE, { prefix: "host" });
  return c.redirect("/admin/sign-in", 303);
}
