import { base64Url } from "../lib/ids";

/**
 * Admission tokens: `wr1.<payload>.<signature>`, where the payload is base64url JSON
 * `{ "r": room, "t": ticket, "e": expiry (ms since the epoch) }` and the signature is
 * base64url HMAC-SHA256 over `wr1.<payload>` with `WAITING_ROOM_SECRET`. Anyone holding the
 * secret can check a token without asking the room, so reservations verify them statelessly.
 */
export interface AdmissionClaims {
  room: string;
  ticket: string;
  /** When the admission stops counting (ms since the epoch). */
  expires_at: number;
}

const VERSION = "wr1";
/** Shorter secrets are refused: a guessable key would let anyone mint admissions. */
export const MIN_SECRET_LENGTH = 32;
/** Longest token accepted; real ones are about 150 characters. */
export const MAX_TOKEN_LENGTH = 512;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key for a secret, imported once per isolate. */
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

/** The configured signing secret, or null when it is missing or too short to be safe. */
export function admissionSecret(env: { WAITING_ROOM_SECRET?: string }): string | null {
  const secret = env.WAITING_ROOM_SECRET ?? "";
  return secret.length >= MIN_SECRET_LENGTH ? secret : null;
}

/** Signs an admission. Deterministic: the same claims always give the same token. */
export async function signAdmission(secret: string, claims: AdmissionClaims): Promise<string> {
  const payload = base64Url(
    encoder.encode(JSON.stringify({ r: claims.room, t: claims.ticket, e: claims.expires_at })),
  );
  const signed = `${VERSION}.${payload}`;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(signed));
  return `${signed}.${base64Url(new Uint8Array(signature))}`;
}

/**
 * The claims of a genuine token (expired or not: the caller decides what expiry means), or
 * null for anything forged, altered, truncated or malformed. The signature is checked with
 * `crypto.subtle.verify`, which compares in constant time, before the payload is trusted.
 */
export async function verifyAdmission(secret: string, token: string): Promise<AdmissionClaims | null> {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== VERSION) return null;
  const [, payload = "", signature = ""] = parts;
  const signatureBytes = fromBase64Url(signature);
  if (signatureBytes?.length !== 32) return null;
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    signatureBytes,
    encoder.encode(`${VERSION}.${payload}`),
  );
  if (!valid) return null;
  const bytes = fromBase64Url(payload);
  if (!bytes) return null;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as { r?: unknown; t?: unknown; e?: unknown };
    if (typeof value.r !== "string" || typeof value.t !== "string" || !Number.isSafeInteger(value.e)) {
      return null;
    }
    return { room: value.r, ticket: value.t, expires_at: value.e as number };
  } catch {
    return null;
  }
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const padded = text.replaceAll("-", "+").replaceAll("_", "/");
    const binary = atob(padded + "=".repeat((4 - (padded.length % 4)) % 4));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}
