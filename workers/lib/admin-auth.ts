import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { sha256Hex, timingSafeEqualString } from "./crypto";
import type { AppEnv } from "./env";
import { problems } from "./problem";

/** Scopes an admin token can hold. `*` grants all of them. */
export const ADMIN_SCOPES = [
  "catalog:read",
  "catalog:write",
  "inventory:read",
  "inventory:write",
  "orders:read",
  "orders:write",
  "promotions:write",
  "regions:write",
  "events:write",
] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

const TokenRecords = z.array(
  z.object({
    id: z.string().min(1),
    /** Hex SHA-256 of the token: the secret itself is never stored. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    scopes: z.array(z.union([z.enum(ADMIN_SCOPES), z.literal("*")])),
  }),
);
type TokenRecord = z.infer<typeof TokenRecords>[number];

// Parsed once per isolate; the secret text only changes with a new deployment.
let cachedSource: string | undefined;
let cachedRecords: TokenRecord[] = [];

function tokenRecords(env: Env): TokenRecord[] {
  const source = env.ADMIN_TOKENS ?? "";
  if (source !== cachedSource) {
    cachedSource = source;
    const parsed = source ? TokenRecords.safeParse(JSON.parse(source)) : undefined;
    cachedRecords = parsed?.success ? parsed.data : [];
  }
  return cachedRecords;
}

/** The id the single full-scope `ADMIN_TOKEN` acts under. */
const FULL_SCOPE_ID = "admin";

/** Who an admin request acts as: the token record's id and the scopes it grants. */
export interface AdminPrincipal {
  id: string;
  scopes: Set<string>;
}

/**
 * The current scopes of the token record `id`, or null once the record is gone (a rotated
 * or revoked token). The console re-checks this on every request, so removing a token from
 * the secrets ends its sessions too.
 */
export function principalById(env: Env, id: string): AdminPrincipal | null {
  // Records first: a record named like the full-scope token can never borrow its scopes.
  const record = tokenRecords(env).find((r) => r.id === id);
  if (record) return { id, scopes: new Set(record.scopes) };
  return id === FULL_SCOPE_ID && env.ADMIN_TOKEN ? { id, scopes: new Set(["*"]) } : null;
}

/** True when `scopes` grants `scope` (directly or through `*`). */
export const grants = (scopes: ReadonlySet<string>, scope: AdminScope): boolean =>
  scopes.has("*") || scopes.has(scope);

// Env views created by `actingAs`: an in-process admin API call made on behalf of a console
// session. Keyed by object identity, so nothing a client sends can forge one.
const delegated = new WeakMap<object, AdminPrincipal>();

/**
 * An env through which admin API routes run as `principal` without a bearer token. The
 * console calls the admin API in-process with it, so the API's own scope checks, validation
 * and refusals apply unchanged to what staff do in the browser.
 */
export function actingAs(env: Env, principal: AdminPrincipal): Env {
  const view = { ...env };
  delegated.set(view, principal);
  return view;
}

/**
 * Resolves a bearer token to its scopes. `ADMIN_TOKENS` (a secret) lists hashed tokens with
 * scopes; `ADMIN_TOKEN` (a secret, `.dev.vars` locally) is a single full-scope token.
 */
export async function resolveToken(env: Env, token: string): Promise<AdminPrincipal | null> {
  const digest = await sha256Hex(token);
  let match: { id: string; scopes: Set<string> } | null = null;
  // Compare against every record (no early exit) so timing does not reveal which matched.
  for (const record of tokenRecords(env)) {
    if ((await timingSafeEqualString(digest, record.sha256)) && match === null) {
      match = { id: record.id, scopes: new Set(record.scopes) };
    }
  }
  if (env.ADMIN_TOKEN && (await timingSafeEqualString(token, env.ADMIN_TOKEN)) && match === null) {
    match = { id: FULL_SCOPE_ID, scopes: new Set(["*"]) };
  }
  return match;
}

/** Guards admin routes: 401 without a valid bearer token, 403 when it lacks `scope`. */
export const requireScope = (scope: AdminScope): MiddlewareHandler<AppEnv> =>
  async function requireScope(c, next) {
    let scopes = c.get("adminScopes");
    if (!scopes) {
      const resolved = delegated.get(c.env) ?? (await bearerPrincipal(c.env, c.req.header("authorization")));
      if (!resolved) throw problems.unauthorized();
      scopes = resolved.scopes;
      c.set("adminScopes", scopes);
      c.set("adminTokenId", resolved.id);
      c.get("log").fields.admin_token = resolved.id;
    }
    if (!grants(scopes, scope)) throw problems.forbidden(scope);
    await next();
  };

async function bearerPrincipal(env: Env, header = ""): Promise<AdminPrincipal | null> {
  const match = /^Bearer\s+(\S{1,512})$/i.exec(header);
  return match?.[1] ? resolveToken(env, match[1]) : null;
}
