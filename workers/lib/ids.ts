/** Prefixes make an id's kind visible in logs, URLs and support tickets. */
export type IdPrefix =
  | "prod"
  | "txl"
  | "txr"
  | "var"
  | "cat"
  | "med"
  | "cart"
  | "line"
  | "res"
  | "chk"
  | "pay"
  | "ord"
  | "evt"
  | "adj"
  | "aud"
  | "promo"
  | "ref"
  | "ful"
  | "dlv"
  | "req"
  | "tkt";

// Crockford base32: no I, L, O, U, so ids survive being read aloud or retyped.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

function randomBase32(length: number): string {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return base32(bytes, length);
}

function base32(bytes: Uint8Array, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[(bytes[i] ?? 0) & 31];
  return out;
}

/**
 * A random id with a kind prefix: 20 base32 characters = 100 bits, unguessable enough
 * for ids that grant access (carts, checkouts, orders).
 */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase32(20)}`;
}

/**
 * An id named by `seed` (its SHA-256), for a record created idempotently under a key: every
 * retry under the key names the same record before knowing whether an earlier attempt made
 * it. Shaped like `newId`'s ids, and as hard to guess as the seed.
 */
export async function derivedId(prefix: IdPrefix, seed: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(seed));
  return `${prefix}_${base32(new Uint8Array(digest), 20)}`;
}

/** A bearer secret (cart token, order lookup token): 256 bits, base64url. */
export function newSecret(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return base64Url(bytes);
}

export function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
