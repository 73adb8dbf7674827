/**
 * Decoding an Action URL request, from the raw bytes of the request target to an event.
 *
 * The receiver calls this on every request, so it is total (never throws, whatever the bytes) and cheap.
 * Phones do not percent-encode what they substitute, so a target may hold raw spaces, raw UTF-8, Latin-1,
 * `&` or `;` inside a display name, and literal `$placeholders` for variables that were empty.
 *
 * Accepted forms (base `/actionurl`):
 *   /actionurl/<slug>?name=value&…            what generated configs use
 *   /actionurl?event=<slug>&name=value;…      one URL for every incident
 *   /actionurl/<slug>/name=value&…            Grandstream's path form (no `?`)
 */
import { canonicalVariableName, INCIDENTS, VARIABLE_SPELLINGS } from './catalog.ts';
import { AMP, EQ, PERCENT, percentDecodeInto, QUESTION, SEMI, SLASH } from './bytes.ts';
import { normalizeMac } from './mac.ts';

export interface DecodeProblem {
  /** `error`: the request cannot be used. `warning`: it was used, but something was repaired or ignored. */
  severity: 'error' | 'warning';
  code:
    | 'not_ingest_path'
    | 'missing_incident'
    | 'unknown_incident'
    | 'missing_mac'
    | 'invalid_mac'
    | 'bad_escape'
    | 'latin1'
    | 'placeholder'
    | 'duplicate'
    | 'joined'
    | 'conflict';
  message: string;
}

export interface DecodedRequest {
  /** Incident slug, or null when the request names none or an unknown one. */
  incident: string | null;
  /** 12 lowercase hex digits, or null. */
  mac: string | null;
  /** Values by canonical variable name (vendor spellings mapped); unsubstituted placeholders become ''. */
  vars: Record<string, string>;
  /** Parameters that are not variables (by the name the phone sent). */
  extra: Record<string, string>;
  /** The `token` parameter, if any (not copied into `extra`). */
  token: string | null;
  form: 'path' | 'query' | 'grandstream' | null;
  problems: DecodeProblem[];
}

export interface DecodeOptions {
  /** Path prefix of the ingest endpoint. Default `/actionurl`. */
  base?: string;
}

const INCIDENT_NAMES = new Map<string, string>();
for (const i of INCIDENTS) {
  INCIDENT_NAMES.set(i.slug, i.slug);
  // Also the seed's names as a user may type them: "Open DND", "ip-changed", "Established".
  INCIDENT_NAMES.set(i.name.toLowerCase().replace(/[\s-]+/g, '_'), i.slug);
}

/** Incident slug for a name as it appears in a URL (case, spaces and hyphens forgiven). */
export function resolveIncident(name: string): string | undefined {
  return INCIDENT_NAMES.get(name) ?? INCIDENT_NAMES.get(name.trim().toLowerCase().replace(/[\s-]+/g, '_'));
}

/** Canonical variable name for a parameter name: exact spelling first, then case-insensitively. */
function variableFor(name: string): string | undefined {
  return canonicalVariableName(name) ?? canonicalLower.get(name.toLowerCase());
}
const canonicalLower = new Map<string, string>();
for (const [spelling, canonical] of VARIABLE_SPELLINGS) {
  if (!canonicalLower.has(spelling.toLowerCase())) canonicalLower.set(spelling.toLowerCase(), canonical);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Parameter names already taken, during one decodeRequestTarget call. */
const SEEN = new Set<string>();
const PLACEHOLDER = /^\$[A-Za-z_][A-Za-z0-9_-]*$/;



/**
 * Text of bytes[start, end): percent-escapes decoded (invalid ones kept as typed), `+` kept as `+`,
 * UTF-8 where the bytes are valid UTF-8, otherwise Latin-1 (so nothing is dropped). `whole` is all of
 * `bytes` read as Latin-1: plain ASCII parts (most of them) are slices of it, which is cheaper than asking
 * the buffer for each part.
 */
function decodeText(bytes: Buffer, whole: string, start: number, end: number, problems: DecodeProblem[]): string {
  let ascii = true;
  let escapes = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === PERCENT) escapes++;
    else if (c > 0x7f) ascii = false;
  }
  let buf: Buffer;
  if (escapes === 0) {
    if (ascii) return whole.slice(start, end);
    buf = bytes.subarray(start, end);
  } else {
    const out = Buffer.allocUnsafe(end - start);
    const n = percentDecodeInto(bytes, start, end, out);
    // Each decoded escape turned three bytes into one; a `%` that was not one of them was kept as typed.
    if ((end - start - n) / 2 < escapes) {
      problems.push({ severity: 'warning', code: 'bad_escape', message: 'an invalid %-escape was kept as typed' });
    }
    buf = out.subarray(0, n);
    ascii = !buf.some((c) => c > 0x7f);
    if (ascii) return latin1(buf, 0, buf.length);
  }
  try {
    return utf8.decode(buf);
  } catch {
    problems.push({ severity: 'warning', code: 'latin1', message: 'text that is not valid UTF-8 was read as Latin-1' });
    return latin1(buf, 0, buf.length);
  }
}

function latin1(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('latin1', start, end);
}

interface Pair {
  name: string;
  value: string;
}

/** Splits bytes[start, end) into name=value pairs at `&` and `;`. */
function splitPairs(bytes: Buffer, whole: string, start: number, end: number, out: Pair[], problems: DecodeProblem[]): void {
  let segStart = start;
  for (let i = start; i <= end; i++) {
    if (i < end && bytes[i] !== AMP && bytes[i] !== SEMI) continue;
    if (i > segStart) {
      let eq = -1;
      for (let j = segStart; j < i; j++) {
        if (bytes[j] === EQ) {
          eq = j;
          break;
        }
      }
      if (eq === -1) {
        // No `=`: phones do not encode values, so this is most likely the rest of the previous value after a
        // raw `&` or `;` in it ("Tom & Jerry"). Keep it there rather than lose it.
        const text = decodeText(bytes, whole, segStart, i, problems);
        const prev = out[out.length - 1];
        if (prev) {
          prev.value += String.fromCharCode(bytes[segStart - 1]) + text;
          problems.push({
            severity: 'warning',
            code: 'joined',
            message: `"${truncate(text)}" has no "=" and was taken as part of the value of ${prev.name}`,
          });
        } else {
          out.push({ name: text, value: '' });
        }
      } else {
        const name = decodeText(bytes, whole, segStart, eq, problems);
        const prev = out[out.length - 1];
        if (prev && bytes[segStart - 1] === SEMI && segStart > start && isUriParameter(prev.value, name)) {
          // `remote=sip:100@pbx;user=phone`: a `;` inside a SIP URI starts a URI parameter, not a new pair.
          prev.value += `;${decodeText(bytes, whole, segStart, i, problems)}`;
        } else {
          out.push({ name, value: decodeText(bytes, whole, eq + 1, i, problems) });
        }
      }
    }
    // An empty segment (`&&`) is dropped.
    segStart = i + 1;
  }
}

const URI_SCHEME = /^(sips?|tel):/i;
const PARAMETER_NAMES = new Set(['event', 'incident', 'token']);

/** True when `name=…` after a `;` continues the SIP/tel URI in `value` rather than starting a new pair. */
function isUriParameter(value: string, name: string): boolean {
  return URI_SCHEME.test(value) && variableFor(name) === undefined && !PARAMETER_NAMES.has(name.toLowerCase());
}

/** `record[name] = value`, also for a parameter a client named `__proto__` (kept as data, like any other). */
function setOwn(record: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true });
  else record[name] = value;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function indexOfByte(bytes: Uint8Array, byte: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (bytes[i] === byte) return i;
  return -1;
}

function startsWithAscii(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

function toBytes(target: Uint8Array | string): Buffer {
  if (typeof target === 'string') return Buffer.from(target, 'utf8');
  return Buffer.isBuffer(target) ? target : Buffer.from(target.buffer, target.byteOffset, target.byteLength);
}

/** Decodes a request target. Never throws. */
export function decodeRequestTarget(target: Uint8Array | string, options: DecodeOptions = {}): DecodedRequest {
  const base = options.base ?? '/actionurl';
  const bytes = toBytes(target);
  const problems: DecodeProblem[] = [];
  const result: DecodedRequest = { incident: null, mac: null, vars: {}, extra: {}, token: null, form: null, problems };

  // Absolute form (`GET http://host/actionurl/... HTTP/1.1`), as sent through proxies.
  let start = 0;
  if (startsWithAscii(bytes, 0, 'http://') || startsWithAscii(bytes, 0, 'https://')) {
    const afterScheme = indexOfByte(bytes, SLASH, 0, bytes.length) + 2;
    const pathStart = indexOfByte(bytes, SLASH, afterScheme, bytes.length);
    start = pathStart === -1 ? bytes.length : pathStart;
  }
  const end = bytes.length;
  const q = indexOfByte(bytes, QUESTION, start, end);
  const pathEnd = q === -1 ? end : q;

  if (!startsWithAscii(bytes, start, base) || (start + base.length < pathEnd && bytes[start + base.length] !== SLASH)) {
    problems.push({ severity: 'error', code: 'not_ingest_path', message: `the path does not start with ${base}` });
    return result;
  }

  const pairs: Pair[] = [];
  const whole = latin1(bytes, 0, bytes.length);
  let slugText: string | undefined;
  const rest = start + base.length + 1; // just after `/actionurl/`
  if (rest < pathEnd) {
    const slash = indexOfByte(bytes, SLASH, rest, pathEnd);
    const slugEnd = slash === -1 ? pathEnd : slash;
    slugText = decodeText(bytes, whole, rest, slugEnd, problems);
    if (slash !== -1 && slash + 1 < pathEnd) {
      result.form = 'grandstream';
      splitPairs(bytes, whole, slash + 1, pathEnd, pairs, problems);
    } else {
      result.form = 'path';
    }
  } else {
    result.form = 'query';
  }
  if (q !== -1) splitPairs(bytes, whole, q + 1, end, pairs, problems);

  // Reused: decoding is synchronous, and a set per request is garbage the next moment.
  const seen = SEEN;
  seen.clear();
  let eventParam: string | undefined;
  let macText: string | undefined;
  for (const { name, value: raw } of pairs) {
    let value = raw;
    if (value.charCodeAt(0) === 0x24 && PLACEHOLDER.test(value)) {
      problems.push({ severity: 'warning', code: 'placeholder', message: `${name} arrived as the literal ${value}: taken as empty` });
      value = '';
    }
    const lower = name.toLowerCase();
    if (lower === 'event' || lower === 'incident') {
      eventParam ??= value;
      continue;
    }
    if (lower === 'token') {
      result.token ??= value;
      continue;
    }
    const canonical = variableFor(name);
    const key = canonical ?? name;
    if (seen.has(key)) {
      const existing = canonical ? result.vars[key] : result.extra[key];
      if (existing === '' && value !== '') {
        // A placeholder under one spelling and a value under another (`$call-id` and `$call_id`): keep the value.
        if (canonical) result.vars[key] = value;
        else setOwn(result.extra, key, value);
      } else if (existing !== value && value !== '') {
        problems.push({ severity: 'warning', code: 'duplicate', message: `${name} was sent more than once; the first value was kept` });
      }
      continue;
    }
    seen.add(key);
    if (canonical) {
      result.vars[canonical] = value;
      if (canonical === 'mac') macText = value;
    } else {
      setOwn(result.extra, name, value);
    }
  }

  // Incident: from the path, or from ?event= in the query form.
  if (slugText !== undefined && eventParam !== undefined && resolveIncident(eventParam) !== resolveIncident(slugText)) {
    problems.push({ severity: 'warning', code: 'conflict', message: `the path names ${slugText} but event= names ${eventParam}; the path wins` });
  }
  const incidentText = slugText ?? eventParam;
  if (incidentText === undefined || incidentText === '') {
    problems.push({
      severity: 'error',
      code: 'missing_incident',
      message: `no incident: use ${base}/<incident>?… or ${base}?event=<incident>&…`,
    });
  } else {
    const slug = resolveIncident(incidentText);
    if (slug) result.incident = slug;
    else problems.push({ severity: 'error', code: 'unknown_incident', message: `unknown incident "${truncate(incidentText)}"` });
  }

  if (macText === undefined || macText === '') {
    problems.push({
      severity: 'error',
      code: 'missing_mac',
      message: macText === undefined ? 'no mac parameter: add mac=$mac to the URL' : 'the mac parameter is empty',
    });
  } else {
    const mac = normalizeMac(macText);
    if (mac) {
      result.mac = mac;
      result.vars.mac = mac;
    } else {
      problems.push({ severity: 'error', code: 'invalid_mac', message: `"${truncate(macText)}" is not a MAC address` });
    }
  }
  return result;
}

/** True when the decoded request can be stored as an event. */
export function isUsable(decoded: DecodedRequest): boolean {
  return !decoded.problems.some((p) => p.severity === 'error');
}

/** The first error's message: the one-line reason a refused request gets. */
export function refusalReason(decoded: DecodedRequest): string | undefined {
  return decoded.problems.find((p) => p.severity === 'error')?.message;
}
