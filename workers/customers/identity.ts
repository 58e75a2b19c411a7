/**
 * The identity a per-customer purchase limit counts against: the shopper's email address,
 * normalised so that spellings one mailbox receives count as one customer.
 *
 * - surrounding whitespace is dropped and the whole address lower-cased (mail providers treat
 *   local parts case-insensitively in practice);
 * - a `+tag` suffix of the local part is dropped (`ann+1@example.com` → `ann@example.com`);
 * - for Gmail (`gmail.com`, `googlemail.com`), dots in the local part are dropped and the
 *   domain becomes `gmail.com`, since Gmail delivers all of them to one mailbox.
 *
 * This is honest about what it is: an unverified email. Someone with several real mailboxes
 * is several customers; verified accounts would be the next step.
 */
export function customerIdentity(email: string): string {
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf("@");
  if (at <= 0) return address;
  let local = address.slice(0, at);
  let domain = address.slice(at + 1);
  const plus = local.indexOf("+");
  if (plus > 0) local = local.slice(0, plus);
  if (domain === "googlemail.com") domain = "gmail.com";
  if (domain === "gmail.com") local = local.replaceAll(".", "");
  return `${local}@${domain}`;
}

/** The identity of a cart's email, or null before the shopper gave one. */
export const identityOf = (email: string | null | undefined): string | null =>
  email ? customerIdentity(email) : null;
