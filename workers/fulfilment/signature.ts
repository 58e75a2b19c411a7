import { hmacSha256Hex, timingSafeEqualString } from "../lib/crypto";

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, Stripe-style. */
export const SIGNATURE_HEADER = "popcart-signature";
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Signs an outbound fulfilment webhook body; the timestamp defeats replay of old deliveries. */
export async function signPayload(secret: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  const signature = await hmacSha256Hex(secret, `${nowSeconds}.${body}`);
  return `t=${nowSeconds},v1=${signature}`;
}

export type VerifyResult =
  | { ok: true }
  | { ok: false; reason: "missing" | "malformed" | "stale" | "mismatch" };

/** Receiver-side verification: well-formed header, timestamp within tolerance, constant-time match. */
export async function verifySignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<VerifyResult> {
  if (!header) return { ok: false, reason: "missing" };
  const parts = new Map(
    header.split(",").map((part) => {
      const [key, ...rest] = part.trim().split("=");
      return [key ?? "", rest.join("=")] as const;
    }),
  );
  const timestamp = Number(parts.get("t"));
  const given = parts.get("v1");
  if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given))
    return { ok: false, reason: "malformed" };
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: "stale" };
  const expected = await hmacSha256Hex(secret, `${timestamp}.${body}`);
  return (await timingSafeEqualString(expected, given)) ? { ok: true } : { ok: false, reason: "mismatch" };
}
