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
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte & 31];
  return out;
}

/**
 * A random id with a kind prefix: 20 base32 characters = 100 bits, unguessable enough
 * for ids that grant access (carts, checkouts, orders).
 */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase32(20)}`;
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
