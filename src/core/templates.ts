/**
 * URL templates: what an administrator types into a phone's Action URL field.
 *
 * `lint` says what is wrong before a phone ever sends it; `expand` produces the URL a phone sends, either
 * exactly as firmware does (`phone` mode: raw values, nothing encoded) or percent-encoded (`safe` mode).
 */
import { incidentBySlugOrUndefined, variablesFilledBy, type Incident } from './catalog.ts';
import { findTokens } from './tokens.ts';

/** Firmware limit on an Action URL field. */
export const MAX_URL_LENGTH = 511;

export interface LintProblem {
  severity: 'error' | 'warning';
  code:
    | 'empty'
    | 'missing_scheme'
    | 'bad_scheme'
    | 'missing_host'
    | 'too_long'
    | 'whitespace'
    | 'unknown_token'
    | 'token_prefix'
    | 'not_filled'
    | 'unknown_incident';
  message: string;
  /** Zero-based character offset the problem refers to. */
  index: number;
  /** How many characters from `index`. */
  length: number;
  /** A concrete suggestion, where there is one. */
  fix?: string;
}

export interface LintResult {
  ok: boolean;
  errors: LintProblem[];
  warnings: LintProblem[];
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/**
 * Checks a template. `incident` (a slug or catalog entry), when given, enables the check that every variable
 * used is one the incident fills.
 */
export function lint(template: string, incident?: string | Incident): LintResult {
  const problems: LintProblem[] = [];
  const add = (p: LintProblem) => problems.push(p);
  const text = template;

  if (text.trim() === '') {
    add({ severity: 'error', code: 'empty', message: 'the URL is empty', index: 0, length: 0 });
    return finish(problems);
  }

  const scheme = SCHEME.exec(text);
  if (!scheme) {
    add({
      severity: 'error',
      code: 'missing_scheme',
      message: 'the URL has no scheme: phones only send URLs that start with http:// or https://',
      index: 0,
      length: 0,
      fix: `http://${text.replace(/^\/+/, '')}`,
    });
  } else if (!/^https?$/i.test(scheme[1])) {
    add({
      severity: 'error',
      code: 'bad_scheme',
      message: `the scheme "${scheme[1]}" is not supported: use http:// or https://`,
      index: 0,
      length: scheme[1].length,
      fix: `http://${text.slice(scheme[0].length)}`,
    });
  } else {
    const hostStart = scheme[0].length;
    const hostEnd = firstOf(text, '/?;#', hostStart);
    if (hostEnd === hostStart) {
      add({
        severity: 'error',
        code: 'missing_host',
        message: 'the URL has no server address after the scheme',
        index: hostStart,
        length: 0,
      });
    }
  }

  if (text.length > MAX_URL_LENGTH) {
    add({
      severity: 'error',
      code: 'too_long',
      message: `the URL is ${text.length} characters; phones take at most ${MAX_URL_LENGTH}`,
      index: MAX_URL_LENGTH,
      length: text.length - MAX_URL_LENGTH,
    });
  }

  const ws = /\s/.exec(text);
  if (ws) {
    add({
      severity: 'warning',
      code: 'whitespace',
      message: 'the URL contains whitespace, which phones send raw and many servers refuse',
      index: ws.index,
      length: 1,
      fix: 'write a space as %20',
    });
  }

  let filled: Set<string> | undefined;
  if (incident !== undefined) {
    const inc = typeof incident === 'string' ? incidentBySlugOrUndefined(incident) : incident;
    if (!inc) {
      add({ severity: 'error', code: 'unknown_incident', message: `unknown incident "${String(incident)}"`, index: 0, length: 0 });
    } else {
      filled = new Set(variablesFilledBy(inc).map((v) => v.name));
    }
  }
  const incidentSlug = typeof incident === 'string' ? incident : incident?.slug;

  for (const tok of findTokens(text)) {
    if (!tok.known) {
      if (tok.word === '') continue; // a bare `$` is just a character
      add({
        severity: 'warning',
        code: 'unknown_token',
        message: `$${tok.word} is not a variable phones know; it will be sent literally`,
        index: tok.index,
        length: tok.word.length + 1,
      });
      continue;
    }
    if (tok.known !== tok.word) {
      add({
        severity: 'warning',
        code: 'token_prefix',
        message: `$${tok.word} is sent as the value of $${tok.known} followed by "${tok.word.slice(tok.known.length)}"`,
        index: tok.index,
        length: tok.word.length + 1,
      });
    }
    if (filled && tok.variable && !filled.has(tok.variable)) {
      add({
        severity: 'warning',
        code: 'not_filled',
        message: `$${tok.known} is never filled for ${incidentSlug}: it arrives empty or as the literal placeholder`,
        index: tok.index,
        length: tok.known.length + 1,
      });
    }
  }
  return finish(problems);
}

function finish(problems: LintProblem[]): LintResult {
  problems.sort((a, b) => a.index - b.index);
  const errors = problems.filter((p) => p.severity === 'error');
  return { ok: errors.length === 0, errors, warnings: problems.filter((p) => p.severity === 'warning') };
}

function firstOf(text: string, chars: string, from: number): number {
  for (let i = from; i < text.length; i++) if (chars.includes(text[i])) return i;
  return text.length;
}

/** Values by canonical variable name. A missing key (or `undefined`) leaves the token literal, as phones do. */
export type ExpandContext = Readonly<Record<string, string | undefined>>;

/**
 * `phone`: substitute as firmware does — plain text, anywhere in the URL, longest token first, unknown tokens
 * left literal, values not encoded. `safe`: the same, but each value is percent-encoded.
 */
export type ExpandMode = 'phone' | 'safe';

export function expand(template: string, context: ExpandContext, mode: ExpandMode = 'phone'): string {
  let out = '';
  let last = 0;
  for (const tok of findTokens(template)) {
    if (!tok.known || !tok.variable) continue;
    const value = context[tok.variable];
    if (value === undefined) continue;
    out += template.slice(last, tok.index) + (mode === 'safe' ? encodeURIComponent(value) : value);
    last = tok.index + 1 + tok.known.length;
  }
  return last === 0 ? template : out + template.slice(last);
}
