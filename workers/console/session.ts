import { and, eq, gt, isNull } from "drizzle-orm";
import { database } from "../../db/client";
import { adminSessions } from "../../db/schema";
import { type AdminPrincipal, principalById } from "../lib/admin-auth";
import { hmacSha256Hex, timingSafeEqualString, toHex } from "../lib/crypto";

/** Sessions are short-lived: one hour from sign-in, then the token is asked for again. */
export const SESSION_TTL_SECONDS = 60 * 60;

/**
 * Set with the `__Host-` prefix (hono's `prefix: "host"`), which pins the cookie to this exact origin, `Path=/` and `Secure` (a subdomain or a
 * plain-HTTP page cannot plant or overwrite it). Browsers treat http://localhost and
 * 127.0.0.1 as secure, so local development works unchanged.
 */
export const SESSION_COOKIE = "popcart-admin";
/** Double-submit token for the sign-in form, which has no session to hold a CSRF token yet. */
export const SIGN_IN_COOKIE = "popcart-admin-signin";

export interface ConsoleSession {
  id: string;
  csrf: string;
  expiresAt: number;
  principal: AdminPrincipal;
}

const randomToken = (bytes = 32) => toHex(crypto.getRandomValues(new Uint8Array(bytes)));

/** The signing key; without it the console refuses to open sessions rather than sign with a guessable key. */
export function sessionSecret(env: Env): string | null {
  const secret = env.ADMIN_SESSION_SECRET ?? "";
  return secret.length >= 32 ? secret : null;
}

const sign = (secret: string, payload: string) => hmacSha256Hex(secret, `admin-session:${payload}`);

/** Opens a session for a verified principal; returns the cookie value to set. */
export async function openSession(
  env: Env,
  secret: string,
  principal: AdminPrincipal,
  now = Date.now(),
): Promise<{ session: ConsoleSession; cookie: string }> {
  const id = `ses_${randomToken(16)}`;
  const csrf = randomToken();
  const expiresAt = now + SESSION_TTL_SECONDS * 1000;
  await database(env.DB)
    .insert(adminSessions)
    .values({ id, tokenId: principal.id, csrf, createdAt: now, expiresAt, revokedAt: null });
  const payload = `${id}.${expiresAt}`;
  return {
    session: { id, csrf, expiresAt, principal },
    cookie: `${payload}.${await sign(secret, payload)}`,
  };
}

/**
 * The live session a cookie names, or null. The signature and expiry are checked before D1
 * is touched (a forged or stale cookie costs nothing); then the row must be unrevoked and the
 * token record must still exist: its *current* scopes are what the session acts with.
 */
export async function readSession(
  env: Env,
  secret: string,
  cookie: string | undefined,
  now = Date.now(),
): Promise<ConsoleSession | null> {
  const match = cookie ? /^(ses_[0-9a-f]{32})\.(\d{1,16})\.([0-9a-f]{64})$/.exec(cookie) : null;
  if (!match) return null;
  const [, id = "", exp = "", signature = ""] = match;
  if (!(await timingSafeEqualString(signature, await sign(secret, `${id}.${exp}`)))) return null;
  if (Number(exp) <= now) return null;
  const row = await database(env.DB)
    .select()
    .from(adminSessions)
    .where(and(eq(adminSessions.id, id), isNull(adminSessions.revokedAt), gt(adminSessions.expiresAt, now)))
    .get();
  if (!row) return null;
  const principal = principalById(env, row.tokenId);
  if (!principal) return null;
  return { id, csrf: row.csrf, expiresAt: row.expiresAt, principal };
}

/** Ends a session for good: the cookie stops working even if someone kept a copy. */
export async function revokeSession(env: Env, id: string, now = Date.now()): Promise<void> {
  await database(env.DB)
    .update(adminSessions)
    .set({ revokedAt: now })
    .where(and(eq(adminSessions.id, id), isNull(adminSessions.revokedAt)));
}

/** A fresh random value for the sign-in form's double-submit cookie. */
export const newSignInToken = () => randomToken();

/** Constant-time check of a submitted CSRF token against the expected one. */
export const csrfMatches = (expected: string, submitted: unknown): Promise<boolean> =>
  typeof submitted === "string" && submitted.length > 0
    ? timingSafeEqualString(expected, submitted)
    : Promise.resolve(false);
