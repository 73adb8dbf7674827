/**
 * Forwarding destinations and which events each one gets. From `serve --webhook URL --webhook-secret S`
 * (repeatable) and from a `--forward FILE`:
 *
 *   { "destinations": [
 *       { "name": "crm", "url": "https://crm.example/hooks/phones", "secret": "whsec_…",
 *         "events": ["incoming_call", "call.ended"], "phones": ["001565aabbcc", "0015*"], "timeout_seconds": 15 } ] }
 *
 * `events` selects incidents (`incoming_call`, or `phone.incoming_call`), the receiver's conclusions
 * (`call.ended`, `phone.online`, `phone.offline`, `phone.registration`), or whole kinds (`incidents`,
 * `conclusions`, `*`); absent: everything. `phones` selects MACs (any spelling) or patterns with `*`;
 * absent: every phone. A mistake is refused with the file's line and the reason.
 */
import { isIncidentSlug } from '../core/catalog.ts';
import { normalizeMac } from '../core/mac.ts';
import { parseJsonWithLines, JsonLineError } from './json-lines.ts';
import { parseSecret, type WebhookSecret } from './signing.ts';

/** What the receiver concludes from events, forwarded like incidents. */
export const CONCLUSION_TYPES = ['call.ended', 'phone.online', 'phone.offline', 'phone.registration'] as const;
export type ConclusionType = (typeof CONCLUSION_TYPES)[number];

export interface EventSelector {
  /** Every incident. */
  allIncidents: boolean;
  /** Every conclusion. */
  allConclusions: boolean;
  /** Exact types: `phone.<incident>` and conclusion types. */
  types: ReadonlySet<string>;
  /** Exact MACs; undefined (with no patterns): every phone. */
  macs?: ReadonlySet<string>;
  macPatterns?: readonly RegExp[];
}

export interface WebhookDestination {
  readonly kind: 'webhook';
  readonly name: string;
  readonly url: string;
  readonly secret?: WebhookSecret;
  readonly select: EventSelector;
  readonly timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
const NAME = /^[A-Za-z0-9_-]{1,40}$/;
/** The MQTT bridge's outbox destination; no webhook may take it. */
export const MQTT_DESTINATION = 'mqtt';

export const SELECT_ALL: EventSelector = { allIncidents: true, allConclusions: true, types: new Set() };

export function selects(s: EventSelector, type: string, mac: string): boolean {
  if (s.macs || s.macPatterns) {
    const byMac = s.macs?.has(mac) ?? false;
    if (!byMac && !(s.macPatterns?.some((p) => p.test(mac)) ?? false)) return false;
  }
  if (type.startsWith('phone.') && !(CONCLUSION_TYPES as readonly string[]).includes(type)) return s.allIncidents || s.types.has(type);
  return s.allConclusions || s.types.has(type);
}

/** One `events` entry; throws with the reason. */
function addEventSelector(out: { allIncidents: boolean; allConclusions: boolean; types: Set<string> }, text: string): void {
  if (text === '*') {
    out.allIncidents = out.allConclusions = true;
  } else if (text === 'incidents') {
    out.allIncidents = true;
  } else if (text === 'conclusions') {
    out.allConclusions = true;
  } else if ((CONCLUSION_TYPES as readonly string[]).includes(text)) {
    out.types.add(text);
  } else {
    const slug = text.startsWith('phone.') ? text.slice(6) : text;
    if (!isIncidentSlug(slug)) {
      throw new Error(`"${text}" is not an incident (see actionurl catalog) nor one of ${CONCLUSION_TYPES.join(', ')}, incidents, conclusions, *`);
    }
    out.types.add(`phone.${slug}`);
  }
}

/** A MAC in any spelling, or a pattern with `*` (`0015*`, `00:15:65:*`). */
function addPhoneSelector(macs: Set<string>, patterns: RegExp[], text: string): void {
  if (text.includes('*')) {
    const compact = text.toLowerCase().replace(/[:.-]/g, '');
    if (!/^[0-9a-f*]+$/.test(compact)) throw new Error(`"${text}" is not a MAC pattern (hex digits and *)`);
    patterns.push(new RegExp(`^${compact.replaceAll('*', '[0-9a-f]*')}$`));
    return;
  }
  const mac = normalizeMac(text);
  if (!mac) throw new Error(`"${text}" is not a MAC address (12 hex digits) nor a pattern with *`);
  macs.add(mac);
}

export function makeSelector(events: readonly string[] | undefined, phones: readonly string[] | undefined): EventSelector {
  const sel = { allIncidents: false, allConclusions: false, types: new Set<string>() };
  if (events === undefined) {
    sel.allIncidents = sel.allConclusions = true;
  } else {
    for (const e of events) addEventSelector(sel, e);
  }
  if (phones === undefined) return sel;
  const macs = new Set<string>();
  const macPatterns: RegExp[] = [];
  for (const p of phones) addPhoneSelector(macs, macPatterns, p);
  return { ...sel, macs, macPatterns };
}

/** A destination URL: http(s) only; throws with the reason. */
export function checkUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`"${text}": a webhook URL starts with http:// or https://`);
  return u.toString();
}

/**
 * `--webhook URL` (repeatable) with `--webhook-secret` (one per URL, in the same order, or one for all).
 * Throws an Error whose message names the flag.
 */
export function webhooksFromFlags(urls: readonly string[], secrets: readonly string[]): WebhookDestination[] {
  if (secrets.length > 1 && secrets.length !== urls.length) {
    throw new Error(`--webhook-secret: give one per --webhook (in the same order) or one for all; got ${secrets.length} for ${urls.length}`);
  }
  if (secrets.length && urls.length === 0) throw new Error('--webhook-secret without --webhook');
  return urls.map((url, i) => {
    let secret: WebhookSecret | undefined;
    const text = secrets.length === 1 ? secrets[0] : secrets[i];
    try {
      if (text !== undefined) secret = parseSecret(text);
    } catch (err) {
      throw new Error(`--webhook-secret: ${(err as Error).message}`, { cause: err });
    }
    try {
      return { kind: 'webhook', name: `webhook${i + 1}`, url: checkUrl(url), secret, select: SELECT_ALL, timeoutMs: DEFAULT_TIMEOUT_MS };
    } catch (err) {
      throw new Error(`--webhook: ${(err as Error).message}`, { cause: err });
    }
  });
}

const KNOWN_KEYS = new Set(['name', 'url', 'secret', 'events', 'phones', 'timeout_seconds']);

/** A `--forward` file's text; throws `<file>: line N: reason`. */
export function parseForwardFile(text: string, file: string): WebhookDestination[] {
  let doc;
  try {
    doc = parseJsonWithLines(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const fail = (line: number, reason: string): never => {
    throw new Error(`${file}: ${new JsonLineError(line, reason).message}`);
  };
  const root = doc.value;
  const list = Array.isArray(root) ? root : root && typeof root === 'object' ? (root as Record<string, unknown>).destinations : undefined;
  if (!Array.isArray(list)) return fail(1, 'expected {"destinations": [ … ]} or a list of destinations');
  const names = new Set<string>();
  return list.map((item, i) => {
    const line = doc.lineOf(list, i);
    if (!item || typeof item !== 'object' || Array.isArray(item)) return fail(line, `destination ${i + 1} is not an object`);
    const d = item as Record<string, unknown>;
    const at = (key: string) => doc.lineOf(d, key);
    for (const key of Object.keys(d)) {
      if (!KNOWN_KEYS.has(key)) fail(at(key), `unknown setting "${key}" (known: ${[...KNOWN_KEYS].join(', ')})`);
    }
    const name = d.name === undefined ? `destination${i + 1}` : d.name;
    if (typeof name !== 'string' || !NAME.test(name)) return fail(at('name'), 'name: 1 to 40 letters, digits, _ or -');
    if (name === MQTT_DESTINATION) fail(at('name'), `name "${MQTT_DESTINATION}" is the MQTT bridge's`);
    if (names.has(name)) fail(at('name'), `name "${name}" is used twice`);
    names.add(name);
    if (typeof d.url !== 'string') return fail(d.url === undefined ? line : at('url'), `destination "${name}" needs a "url"`);
    let url: string;
    try {
      url = checkUrl(d.url);
    } catch (err) {
      return fail(at('url'), (err as Error).message);
    }
    let secret: WebhookSecret | undefined;
    if (d.secret !== undefined) {
      if (typeof d.secret !== 'string') return fail(at('secret'), 'secret: a string whsec_…');
      try {
        secret = parseSecret(d.secret);
      } catch (err) {
        return fail(at('secret'), (err as Error).message);
      }
    }
    const strings = (key: string): string[] | undefined => {
      const v = d[key];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return fail(at(key), `${key}: a list of strings`);
      return v as string[];
    };
    const events = strings('events');
    const phones = strings('phones');
    let select: EventSelector;
    try {
      select = makeSelector(events, undefined);
    } catch (err) {
      return fail(at('events'), `events: ${(err as Error).message}`);
    }
    try {
      select = { ...select, ...(phones ? pick(makeSelector([], phones)) : {}) };
    } catch (err) {
      return fail(at('phones'), `phones: ${(err as Error).message}`);
    }
    let timeoutMs = DEFAULT_TIMEOUT_MS;
    if (d.timeout_seconds !== undefined) {
      const t = d.timeout_seconds;
      if (typeof t !== 'number' || !(t >= 1 && t <= 60)) return fail(at('timeout_seconds'), 'timeout_seconds: a number from 1 to 60');
      timeoutMs = t * 1000;
    }
    return { kind: 'webhook', name, url, secret, select, timeoutMs } satisfies WebhookDestination;
  });
}

function pick(s: EventSelector): Pick<EventSelector, 'macs' | 'macPatterns'> {
  return { macs: s.macs, macPatterns: s.macPatterns };
}
