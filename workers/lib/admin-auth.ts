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

/**
 * Resolves a bearer token to its scopes. `ADMIN_TOKENS` (a secret) lists hashed tokens with
 * scopes; `ADMIN_TOKEN` (a secret, `.dev.vars` locally) is a single full-scope token.
 */
async function resolveToken(env: Env, token: string): Promise<{ id: string; scopes: Set<string> } | null> {
  const digest = await sha256Hex(token);
  let match: { id: string; scopes: Set<string> } | null = null;
  // Compare against every record (no early exit) so timing does not reveal which matched.
  for (const record of tokenRecords(env)) {
    if ((await timingSafeEqualString(digest, record.sha256)) && match === null) {
      match = { id: record.id, scopes: new Set(record.scopes) };
    }
  }
  if (env.ADMIN_TOKEN && (await timingSafeEqualString(token, env.ADMIN_TOKEN)) && match === null) {
    match = { id: "admin", scopes: new Set(["*"]) };
  }
  return match;
}

/** Guards admin routes: 401 without a valid bearer token, 403 when it lacks `scope`. */
export const requireScope = (scope: AdminScope): MiddlewareHandler<AppEnv> =>
  async function requireScope(c, next) {
    let scopes = c.get("adminScopes");
    if (!scopes) {
      const header = c.req.header("authorization") ?? "";
      const match = /^Bearer\s+(\S{1,512})$/i.exec(header);
      const resolved = match?.[1] ? await resolveToken(c.env, match[1]) : null;
      if (!resolved) throw problems.unauthorized();
      scopes = resolved.scopes;
      c.set("adminScopes", scopes);
      c.set("adminTokenId", resolved.id);
      c.get("log").fields.admin_token = resolved.id;
    }
    if (!scopes.has("*") && !scopes.has(scope)) throw problems.forbidden(scope);
    await next();
  };
