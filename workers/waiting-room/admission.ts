import type { AdmissionClaims } from "./token";

/**
 * What a stock reservation carries about waiting rooms: the verified admissions of the request
 * (signatures already checked at the edge), or `"exempt"` for paths that are not a shopper
 * taking new stock (an ops hold, re-reserving for a payment that already succeeded).
 */
export type Admission = { passes: readonly AdmissionClaims[] } | "exempt";

/** A request that presented no admission. */
export const NO_ADMISSION: Admission = { passes: [] };

/** Why a reservation behind a waiting room was refused; each is a stable problem `code`. */
export type AdmissionRefusal = "admission_required" | "admission_expired";

/**
 * The admission gate, applied by the inventory object wherever it grants new units of a SKU
 * whose sale sends shoppers through `room`: a genuine, unexpired admission to that room is
 * required. Admissions to other rooms do not count.
 */
export function admissionRefusal(
  room: string | null,
  admission: Admission | undefined,
  now: number,
): AdmissionRefusal | null {
  if (room === null || admission === "exempt") return null;
  let latest: number | null = null;
  for (const pass of admission?.passes ?? []) {
    if (pass.room === room && (latest === null || pass.expires_at > latest)) latest = pass.expires_at;
  }
  if (latest === null) return "admission_required";
  return latest > now ? null : "admission_expired";
}

/** Where a shopper joins a room (the `join_url` of admission problems). */
export const joinPath = (room: string) => `/api/waiting-rooms/${encodeURIComponent(room)}/tickets`;
