import { deletionVariants, editDistance, MIN_CORRECTABLE_LENGTH, words } from "./text";

/** Words considered per query: bounds FTS work whatever a shopper pastes in. */
export const MAX_QUERY_WORDS = 8;
/** Corrections tried per misspelt word, most frequent first. */
const MAX_CORRECTIONS = 3;

export interface Correction {
  word: string;
  /** Vocabulary words one edit away, OR-ed with the typed word. */
  candidates: string[];
}

export interface ParsedQuery {
  words: string[];
  /** The FTS5 MATCH expression, or null to browse everything. */
  match: string | null;
  corrections: Correction[];
}

// Words are letters and digits only (see `words`), so wrapping them in double quotes yields
// FTS5 strings that can never be parsed as operators (AND, NEAR, *, ^, :, -, parentheses).
const quoted = (word: string) => `"${word}"`;

/** The vocabulary lookups a query needs, batched by the caller with its own statements. */
export interface PreparedQuery {
  statements: D1PreparedStatement[];
  /** Builds the query from the statements' results, in the same order. */
  finish(results: readonly D1Result[]): ParsedQuery;
}

/**
 * Turns shopper text into a safe FTS5 expression: every word must match (AND), the last word
 * also as a prefix (as-you-type), and a word the vocabulary does not know is OR-ed with its
 * edit-distance-1 neighbours (symmetric-delete lookup) so "snaekers" still finds "sneakers".
 * No words: no statements, and a null match (browse everything).
 */
export function prepareQuery(db: D1Database, q: string): PreparedQuery {
  const typed = [...new Set(words(q))].slice(0, MAX_QUERY_WORDS);
  if (typed.length === 0)
    return { statements: [], finish: () => ({ words: [], match: null, corrections: [] }) };
  const last = typed[typed.length - 1] ?? "";
  const correctable = typed.filter((word) => Array.from(word).length >= MIN_CORRECTABLE_LENGTH);
  const variants = [...new Set(correctable.flatMap(deletionVariants))];
  const statements = [
    db
      .prepare("SELECT term FROM search_terms WHERE term IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(typed)),
    db
      .prepare("SELECT term FROM search_terms WHERE term > ?1 AND term < ?2 LIMIT 1")
      .bind(last, `${last}\u{10FFFF}`),
    db
      .prepare(
        `SELECT DISTINCT s.term, t.df FROM search_spellings s JOIN search_terms t ON t.term = s.term
         WHERE s.variant IN (SELECT value FROM json_each(?1)) ORDER BY t.df DESC`,
      )
      .bind(JSON.stringify(variants)),
  ];
  return {
    statements,
    finish: ([known, lastPrefix, neighbours]) => {
      const knownWords = new Set(((known?.results ?? []) as { term: string }[]).map((row) => row.term));
      const lastIsPrefix = (lastPrefix?.results ?? []).length > 0;
      const candidates = (neighbours?.results ?? []) as { term: string; df: number }[];

      const corrections: Correction[] = [];
      const groups = typed.map((word) => {
        const isLast = word === last;
        const exact = isLast ? `${quoted(word)}*` : quoted(word);
        const found = knownWords.has(word) || (isLast && lastIsPrefix);
        if (found || Array.from(word).length < MIN_CORRECTABLE_LENGTH) return exact;
        const near = candidates
          .filter((c) => c.term !== word && editDistance(word, c.term, 1) <= 1)
          .slice(0, MAX_CORRECTIONS)
          .map((c) => c.term);
        if (near.length === 0) return exact;
        corrections.push({ word, candidates: near });
        return `(${[exact, ...near.map(quoted)].join(" OR ")})`;
      });
      return { words: typed, match: groups.join(" AND "), corrections };
    },
  };
}
