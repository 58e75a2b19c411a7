import type { Context } from "hono";
import type { AppEnv } from "../lib/env";
import { type Admission, NO_ADMISSION } from "./admission";
import { type AdmissionClaims, admissionSecret, verifyAdmission } from "./token";

/** Request header carrying admission tokens, comma-separated when a shopper holds several. */
export const ADMISSION_HEADER = "popcart-admission";
/** More tokens than this in one request are ignored (a shopper is rarely in two rooms). */
const MAX_TOKENS = 8;

/**
 * The request's admissions: every token in `Popcart-Admission` whose signature checks out.
 * Forged or malformed tokens are dropped here, so they read as "no admission" downstream;
 * expiry is judged by the inventory object at the moment it reserves.
 */
export async function requestAdmission(c: Context<AppEnv>): Promise<Admission> {
  const header = c.req.header(ADMISSION_HEADER);
  const secret = admissionSecret(c.env);
  if (!header || !secret) return NO_ADMISSION;
  const tokens = header
    .split(",")
    .map((token) => token.trim())
    .filter(Boolean)
    .slice(0, MAX_TOKENS);
  const verified = await Promise.all(tokens.map((token) => verifyAdmission(secret, token)));
  const passes = verified.filter((claims): claims is AdmissionClaims => claims !== null);
  if (passes.length > 0) c.get("log").fields.admission_tickets = passes.map((p) => p.ticket).join(",");
  return { passes };
}

/** Counts a cart or checkout request refused for want of an admission (a no-op for other refusals). */
export function recordAdmissionRefusal(
  c: Context<AppEnv>,
  refusal: { reason: string; data?: Record<string, string | number | null> },
): void {
  if (refusal.reason !== "admission_required" && refusal.reason !== "admission_expired") return;
  const room = String(refusal.data?.waiting_room ?? "");
  c.get("log").fields.waiting_room = room;
  c.get("metrics").waitingRoom({ room, event: "refused", reason: refusal.reason });
}
