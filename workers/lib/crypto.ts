const encoder = new TextEncoder();

/** Hex SHA-256 of a UTF-8 string. Used to store tokens hashed, never in the clear. */
export async function sha256Hex(input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(input));
  return toHex(new Uint8Array(digest));
}

/** Hex HMAC-SHA256 of `message` under `secret`. */
export async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(message));
  return toHex(new Uint8Array(signature));
}

/**
 * Compares two secrets without leaking, through timing, how long a matching prefix is.
 * Both sides are hashed first so inputs of different lengths take the same time too.
 */
export async function timingSafeEqualString(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb) && a.length === b.length;
}

/**
 * Constant-time comparison of two digests of the same, public length (e.g. hex SHA-256): no
 * hashing needed, unlike {@link timingSafeEqualString}, and synchronous, so it fits between
 * the storage reads and writes of a Durable Object's input-gated section.
 */
export function sameDigest(a: string, b: string): boolean {
  const [ba, bb] = [encoder.encode(a), encoder.encode(b)];
  return ba.byteLength === bb.byteLength && crypto.subtle.timingSafeEqual(ba, bb);
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX[byte];
  return out;
}
