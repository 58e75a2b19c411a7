import type { Context } from "hono";
import type { AppEnv } from "../lib/env";
import { log } from "../lib/logging";
import { clientKey, type RateLimitBindingName, rateLimited } from "../lib/rate-limit";

/**
 * Failed promotion-code guesses, limited where a guesser cannot reset them with a new cart:
 *
 * - per client (`CF-Connecting-IP`, IPv6 /64) across all of its carts
 *   (`PROMO_GUESS_CLIENT_RATE_LIMITER`, 10 failures / 60 s);
 * - per code prefix (its first {@link CODE_PREFIX_LENGTH} characters) across all clients, for
 *   one code family brute-forced from many addresses (`PROMO_GUESS_CODE_RATE_LIMITER`,
 *   100 failures / 60 s).
 *
 * Only failures count (`promotion_invalid`: unknown, expired, not applicable …), so shoppers
 * applying a valid code never spend the budget. A failure over a limit puts its key in a
 * penalty box for the period, and while it is there every attempt on that key is answered 429
 * `rate_limited` with `Retry-After` *before* the code is looked at: a blocked guesser cannot
 * tell a valid code (which would succeed) from an invalid one. The price, stated honestly:
 * while a prefix is blocked, a shopper typing a real code of that prefix waits too.
 *
 * The rate-limiting binding only counts (it has no read-only "peek"), so the penalty box is a
 * Cache API entry with the period as its lifetime. Both are per Cloudflare location, which is
 * the right scope for abuse limits; the Cache API needs a custom domain (on workers.dev it is
 * a no-op and only the counting limiters apply). Requests without a client address (only
 * possible off Cloudflare: tests, service bindings) are not counted, like every other limit.
 */
export const GUESS_PERIOD_SECONDS = 60;
export const CODE_PREFIX_LENGTH = 4;

interface GuessLimit {
  scope: "client" | "code";
  binding: RateLimitBindingName;
  key(client: string, code: string): string;
}

const GUESS_LIMITS: readonly GuessLimit[] = [
  { scope: "client", binding: "PROMO_GUESS_CLIENT_RATE_LIMITER", key: (client) => client },
  {
    scope: "code",
    binding: "PROMO_GUESS_CODE_RATE_LIMITER",
    key: (_client, code) => `prefix:${code.toUpperCase().slice(0, CODE_PREFIX_LENGTH)}`,
  },
];

const PENALTY_CACHE = "promotion-guess-limits";
const BLOCKED_UNTIL = "x-blocked-until";

const penaltyKey = (limit: GuessLimit, key: string) =>
  new Request(`https://popcart.internal/promotion-guesses/${limit.scope}/${encodeURIComponent(key)}`);

/** The keys a request's guess of `code` counts against (none without a client address). */
function keysOf(c: Context<AppEnv>, code: string): { limit: GuessLimit; key: string }[] {
  const client = clientKey(c);
  return client ? GUESS_LIMITS.map((limit) => ({ limit, key: limit.key(client, code) })) : [];
}

async function penaltyBox(): Promise<Cache | null> {
  try {
    return await caches.open(PENALTY_CACHE);
  } catch (error) {
    log("warn", "promotion_guess_cache_unavailable", { error: String(error) });
    return null;
  }
}

/**
 * Refuses (429 `rate_limited`, `Retry-After` = what is left of the block) an attempt whose
 * client or code prefix is in the penalty box. Call before the code is evaluated.
 */
export async function refuseBlockedGuess(c: Context<AppEnv>, code: string): Promise<void> {
  const keys = keysOf(c, code);
  const box = keys.length ? await penaltyBox() : null;
  if (!box) return;
  for (const { limit, key } of keys) {
    const hit = await box.match(penaltyKey(limit, key));
    if (!hit) continue;
    await hit.body?.cancel();
    const left = Math.ceil((Number(hit.headers.get(BLOCKED_UNTIL)) - Date.now()) / 1000);
    if (!(left > 0)) continue;
    c.get("log").fields.rate_limited = limit.binding;
    c.get("metrics").promotionCode({ outcome: "rate_limited", scope: limit.scope, reason: "blocked" });
    throw rateLimited(Math.min(left, GUESS_PERIOD_SECONDS));
  }
}

/**
 * Records a failed attempt (`why`: the refusal's reason, e.g. `unknown_code`) in the
 * `promotion_code` metric and against every guess limit; when one is exceeded its key goes
 * in the penalty box and this attempt is already answered 429 `rate_limited`.
 * A failing limiter lets the answer through (logged): abuse protection never fails the store.
 */
export async function countFailedGuess(c: Context<AppEnv>, code: string, why: string): Promise<void> {
  c.get("metrics").promotionCode({ outcome: "failed", reason: why });
  let tripped: GuessLimit | null = null;
  for (const { limit, key } of keysOf(c, code)) {
    const limiter = c.env[limit.binding] as RateLimit | undefined;
    if (!limiter) continue;
    try {
      if ((await limiter.limit({ key })).success) continue;
    } catch (error) {
      log("warn", "rate_limiter_failed", { binding: limit.binding, error: String(error) });
      continue;
    }
    tripped ??= limit;
    const until = Date.now() + GUESS_PERIOD_SECONDS * 1000;
    await (await penaltyBox())?.put(
      penaltyKey(limit, key),
      new Response(null, {
        headers: { "cache-control": `max-age=${GUESS_PERIOD_SECONDS}`, [BLOCKED_UNTIL]: String(until) },
      }),
    );
  }
  if (tripped) {
    c.get("log").fields.rate_limited = tripped.binding;
    c.get("metrics").promotionCode({ outcome: "rate_limited", scope: tripped.scope, reason: why });
    throw rateLimited(GUESS_PERIOD_SECONDS);
  }
}
