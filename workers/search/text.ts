/**
 * Text normalisation shared by the indexer (vocabulary, suggestions) and the query parser.
 * It mirrors FTS5's `unicode61 remove_diacritics 2` tokenizer closely enough that a word we
 * extract is a word the index holds: lower-cased, accents folded, split on anything that is
 * not a letter or digit.
 */

/** Longest word we index or query: longer "words" are noise (hashes, pasted junk). */
export const MAX_WORD_LENGTH = 40;

/** Lower-cases and strips combining marks (é → e, ñ → n) after compatibility decomposition. */
export function foldText(input: string): string {
  return input
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
}

/** The words of `input`, in order, folded; duplicates kept. */
export function words(input: string): string[] {
  const out: string[] = [];
  for (const word of foldText(input).split(/[^\p{L}\p{N}]+/u)) {
    if (word.length > 0 && word.length <= MAX_WORD_LENGTH) out.push(word);
  }
  return out;
}

/** Distinct words of several fields. */
export function wordSet(...fields: string[]): Set<string> {
  const out = new Set<string>();
  for (const field of fields) for (const word of words(field)) out.add(word);
  return out;
}

/** Words shorter than this are never spell-corrected: too many neighbours, too little signal. */
export const MIN_CORRECTABLE_LENGTH = 4;

/** A word and each of its single-character deletions (the symmetric-delete keys). */
export function deletionVariants(word: string): string[] {
  const chars = Array.from(word);
  const out = new Set<string>([word]);
  for (let i = 0; i < chars.length; i++) out.add(chars.slice(0, i).join("") + chars.slice(i + 1).join(""));
  return [...out];
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transposition), capped: returns
 * `limit + 1` as soon as the distance must exceed `limit`. Symmetric-delete lookups only
 * propose candidates; this confirms they are really one typo away.
 */
export function editDistance(a: string, b: string, limit = 1): number {
  const x = Array.from(a);
  const y = Array.from(b);
  if (Math.abs(x.length - y.length) > limit) return limit + 1;
  let prevPrev: number[] = [];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let value = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        value = Math.min(value, (prevPrev[j - 2] ?? 0) + 1);
      }
      row.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    prevPrev = prev;
    prev = row;
  }
  return prev[y.length] ?? limit + 1;
}

/** The normalised form of a shopper's query, used as the zero-result log key. */
export function normaliseQuery(input: string): string {
  return words(input).join(" ");
}
