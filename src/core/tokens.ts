/**
 * Finding `$tokens` in a URL the way phone firmware does: every known spelling is replaced as plain text
 * anywhere, longest first, so `$display_remote` wins over a shorter spelling that is its prefix.
 */
import { VARIABLE_SPELLINGS } from './catalog.ts';

/** Known spellings, longest first (so a prefix never shadows a longer token). */
const SPELLINGS_LONGEST_FIRST: readonly string[] = [...VARIABLE_SPELLINGS.keys()].sort((a, b) => b.length - a.length);

/** The characters a vendor token may contain after `$` (Snom/Grandstream use `-`, as in `$call-id`). */
export function isTokenChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f || // _
    code === 0x2d // -
  );
}

/** The longest known spelling that starts at `text[start]` (just after a `$`), or undefined. */
export function knownSpellingAt(text: string, start: number): string | undefined {
  for (const spelling of SPELLINGS_LONGEST_FIRST) {
    if (text.startsWith(spelling, start)) return spelling;
  }
  return undefined;
}

export interface TokenMatch {
  /** Index of the `$`. */
  index: number;
  /** The whole run of token characters after `$` (what a reader sees as the token). */
  word: string;
  /** The known spelling a phone would substitute (a prefix of `word`), if any. */
  known?: string;
  /** Canonical variable name of `known`. */
  variable?: string;
}

/** Every `$word` in a template, with what a phone would make of it. */
export function findTokens(text: string): TokenMatch[] {
  const out: TokenMatch[] = [];
  for (let i = text.indexOf('$'); i !== -1; i = text.indexOf('$', i + 1)) {
    let end = i + 1;
    while (end < text.length && isTokenChar(text.charCodeAt(end))) end++;
    const word = text.slice(i + 1, end);
    const known = knownSpellingAt(text, i + 1);
    out.push(known ? { index: i, word, known, variable: VARIABLE_SPELLINGS.get(known) } : { index: i, word });
  }
  return out;
}
