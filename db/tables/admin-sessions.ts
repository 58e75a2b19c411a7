import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Admin console sessions. The cookie carries only the id, its expiry and an HMAC; this row is
 * what makes a session revocable (sign-out, or every session of a token at once) and holds
 * the per-session CSRF token that every console form must echo.
 */
export const adminSessions = sqliteTable(
  "admin_sessions",
  {
    id: text("id").primaryKey(),
    /** The admin token record the session was opened with (`ADMIN_TOKENS[].id`, or `admin`). */
    tokenId: text("token_id").notNull(),
    csrf: text("csrf").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("admin_sessions_token_idx").on(t.tokenId, t.revokedAt)],
);
