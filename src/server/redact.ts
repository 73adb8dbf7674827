/**
 * Blanking secrets out of request targets before they are stored (events, rejected requests), so the API
 * and the dashboard never show them. Two rules, both over the raw bytes:
 *
 *  - the value of every parameter whose name, percent-decoded, in any case and without spaces, `-`, `_`
 *    and `.`, is a secret's name (`isSecretName`): `token=…`, `TOKEN=…`, `to%6Ben=…`, `%20token=…`,
 *    `access_token`, `Access-Token`, `ACCESS_TOKEN`, `api_key`, `password`, …. The value runs as the decoder
 *    reads it: to the next `&` or `;`, and on over following parts that have no `=` (the decoder joins those
 *    into the value);
 *  - every occurrence of a configured secret (the ingest and admin tokens, the `--token-secret`, and with
 *    per-phone tokens the requesting phone's derived token: see ingest.ts), however it is percent-encoded:
 *    `s3cret`, `s%33cret`, `token%3Ds3cret`, `…&%20token=s3cret`. A derived token of some other phone is
 *    blanked by the first rule, as any `token` value is.
 *
 * Each match becomes `***`. Targets with nothing to blank are returned as they are, without copying.
 */
import { AMP, EQ, hexValue, PERCENT, QUESTION, SEMI, SLASH } from '../core/bytes.ts';
import { percentDecode } from '../http/request.ts';

const MASK = Buffer.from('***');
const NONE: readonly Buffer[] = [];

/** Secrets shorter than this are only blanked as `token=` values: blanking every `ab` would garble targets. */
export const MIN_SECRET_LENGTH = 4;


/** The byte forms a secret may arrive in: UTF-8, and Latin-1 where that differs (the decoder reads both). */
export function secretForms(values: readonly (string | undefined)[]): Buffer[] {
  const forms: Buffer[] = [];
  for (const v of values) {
    if (v === undefined || v.length < MIN_SECRET_LENGTH) continue;
    const utf8 = Buffer.from(v, 'utf8');
    forms.push(utf8);
    let latin1able = true;
    for (let i = 0; i < v.length && latin1able; i++) latin1able = v.charCodeAt(i) <= 0xff;
    if (latin1able) {
      const latin1 = Buffer.from(v, 'latin1');
      if (!latin1.equals(utf8)) forms.push(latin1);
    }
  }
  return forms;
}

/** Names (lower case, without spaces, `-`, `_`, `.`) whose value is a secret, besides any ending in `token`. */
const SECRET_NAMES = new Set([
  'apikey', 'secret', 'clientsecret', 'password', 'passwd', 'pwd', 'passcode', 'auth', 'authorization', 'bearer',
  'signature', 'sessionid', 'accesskey', 'secretkey', 'privatekey',
]);

/**
 * Whether a parameter named `name` carries a secret: `token` and anything ending in it (`access_token`,
 * `Access-Token`, `X-Auth-Token`), in any case and spelling, and the common names of keys and passwords.
 */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[\s_.-]+/g, '');
  return n.endsWith('token') || SECRET_NAMES.has(n);
}

/** Whether bytes[start, end) name a secret parameter once decoded (see isSecretName). */
function namesToken(t: Buffer, start: number, end: number): boolean {
  if (end - start > 64) return false;
  let ascii = true;
  for (let i = start; i < end; i++) if (t[i] === PERCENT || t[i] > 0x7f) ascii = false;
  // Escapes or non-ASCII bytes (the Kelvin sign lower-cases to `k`): decode like the decoder does.
  return isSecretName(ascii ? t.toString('latin1', start, end) : percentDecode(t.subarray(start, end)));
}

/** Adds [start, end) of each `token` parameter's value to `ranges`. */
function tokenValues(t: Buffer, ranges: number[]): void {
  let firstQ = -2;
  for (let eq = t.indexOf(EQ); eq !== -1; eq = t.indexOf(EQ, eq + 1)) {
    // The name: back from `=` to a separator (a secret's name is 3 to 64 bytes).
    let p = eq;
    while (p > 0 && eq - p <= 64) {
      const c = t[p - 1];
      if (c === AMP || c === SEMI || c === QUESTION || c === SLASH || c === EQ) break;
      p--;
    }
    if (eq - p < 3 || eq - p > 64 || !namesToken(t, p, eq)) continue;
    // In the path (Grandstream's form) a value ends at the query; in the query at `&` or `;`, running on
    // over following parts without `=`, which the decoder takes as part of the value.
    if (firstQ === -2) firstQ = t.indexOf(QUESTION);
    const limit = firstQ !== -1 && eq < firstQ ? firstQ : t.length;
    let end = eq + 1;
    for (;;) {
      while (end < limit && t[end] !== AMP && t[end] !== SEMI) end++;
      if (end >= limit) break;
      let next = end + 1;
      while (next < limit && t[next] !== AMP && t[next] !== SEMI && t[next] !== EQ) next++;
      if (next < limit && t[next] === EQ) break;
      end = next;
    }
    ranges.push(eq + 1, end);
    if (end > eq + 1) eq = end - 1;
  }
}

/** End of a match of `secret` at raw position i, reading valid %-escapes as their byte; -1 if none. */
function matchDecoded(t: Buffer, i: number, secret: Buffer): number {
  let k = 0;
  while (k < secret.length) {
    if (i >= t.length) return -1;
    let b = t[i];
    let len = 1;
    if (b === PERCENT && i + 2 < t.length) {
      const h = hexValue(t[i + 1]);
      const l = hexValue(t[i + 2]);
      if (h >= 0 && l >= 0) {
        b = (h << 4) | l;
        len = 3;
      }
    }
    if (b !== secret[k]) return -1;
    i += len;
    k++;
  }
  return i;
}

/** Adds [start, end) of each occurrence of a secret, plain or percent-encoded, to `ranges`. */
function secretOccurrences(t: Buffer, secrets: readonly Buffer[], ranges: number[]): void {
  const escaped = t.indexOf(PERCENT) !== -1;
  for (const secret of secrets) {
    if (!escaped) {
      for (let at = t.indexOf(secret); at !== -1; at = t.indexOf(secret, at + secret.length)) ranges.push(at, at + secret.length);
      continue;
    }
    for (let i = 0; i < t.length; ) {
      const end = matchDecoded(t, i, secret);
      if (end !== -1) {
        ranges.push(i, end);
        i = end;
        continue;
      }
      // Step over a whole escape: a match starts where a decoded byte starts.
      i += t[i] === PERCENT && i + 2 < t.length && hexValue(t[i + 1]) >= 0 && hexValue(t[i + 2]) >= 0 ? 3 : 1;
    }
  }
}

/**
 * The target with every `token` parameter's value and every occurrence of a secret (byte forms from
 * `secretForms`) replaced by `***`.
 */
export function redactToken(target: Buffer, secrets: readonly Buffer[] = NONE): Buffer {
  const ranges: number[] = [];
  tokenValues(target, ranges);
  if (secrets.length > 0) secretOccurrences(target, secrets, ranges);
  if (ranges.length === 0) return target;
  // Ranges as [start, end) pairs: sorted by start, overlapping ones merged.
  const order: number[] = [];
  for (let r = 0; r < ranges.length; r += 2) order.push(r);
  order.sort((a, b) => ranges[a] - ranges[b]);
  const parts: Buffer[] = [];
  let from = 0;
  let open = -1;
  let close = -1;
  for (const r of order) {
    const start = ranges[r];
    const end = ranges[r + 1];
    if (open !== -1 && start <= close) {
      close = Math.max(close, end);
      continue;
    }
    if (open !== -1) parts.push(target.subarray(from, open), MASK);
    if (open !== -1) from = close;
    open = start;
    close = end;
  }
  parts.push(target.subarray(from, open), MASK, target.subarray(close));
  return Buffer.concat(parts);
}

const MASK_TEXT = MASK.toString('latin1');

/** `text` with every configured secret (`plain` as text, `forms` for any percent-encoding mixture) blanked. */
function blankSecrets(text: string, plain: readonly string[], forms: readonly Buffer[]): string {
  let out = text;
  for (const s of plain) if (out.includes(s)) out = out.split(s).join(MASK_TEXT);
  // A value is decoded once: a secret still percent-encoded in it was encoded twice, or mixed.
  if (forms.length > 0 && out.includes('%')) out = redactToken(Buffer.from(out, 'utf8'), forms).toString('utf8');
  return out;
}

/**
 * An event's decoded fields (`vars` or `extra`) as they may be kept and forwarded: the value of a field with
 * a secret's name (`access_token`, `Password`, …) blanked, and every configured secret (`plain`, at least
 * MIN_SECRET_LENGTH long) blanked wherever it appears, in a value (`local=<the ingest token>`, a display
 * name that holds the admin token) or a name. Fields with nothing to blank are returned as they are.
 */
export function redactFields(fields: Record<string, string>, plain: readonly string[], forms: readonly Buffer[]): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(fields)) {
    const kept = isSecretName(name) ? (value === '' ? value : MASK_TEXT) : blankSecrets(value, plain, forms);
    const shown = plain.length > 0 ? blankSecrets(name, plain, forms) : name;
    if (kept === value && shown === name) continue;
    out ??= { ...fields };
    if (shown !== name) delete out[name];
    out[shown] = kept;
  }
  return out ?? fields;
}
