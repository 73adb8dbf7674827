/**
 * Reading and checking API query parameters. A bad value is the client's mistake: `ParamError` becomes a
 * 400 with `{error}` naming the parameter and what was expected.
 */
import { normalizeMac } from '../../core/mac.ts';
import { isIncidentSlug } from '../../core/catalog.ts';
import { resolveIncident } from '../../core/decode.ts';
import { parseSince } from '../duration.ts';

export class ParamError extends Error {}

export const MAX_LIMIT = 1000;

/** Taken on every /api path: the admin token, where a client cannot set a header (EventSource). */
const EVERY_PATH = ['access_token'];

/**
 * Refuses a query parameter the endpoint does not read, naming the ones it does: a misspelt filter
 * (`?macc=…`) would otherwise be ignored, and the answer would look like a filtered one while holding
 * everything, as a mistyped CLI flag is refused instead of ignored.
 */
export function onlyParams(q: URLSearchParams, names: readonly string[]): void {
  for (const name of q.keys()) {
    if (names.includes(name) || EVERY_PATH.includes(name)) continue;
    const shown = name.length > 40 ? `${name.slice(0, 40)}…` : name;
    throw new ParamError(names.length === 0
      ? `unknown parameter "${shown}": this path takes no query parameters`
      : `unknown parameter "${shown}": this path takes ${names.join(', ')}`);
  }
}

export function limitParam(q: URLSearchParams, fallback = 100): number {
  const text = q.get('limit');
  if (text === null || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ParamError(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return Math.min(n, MAX_LIMIT);
}

export function cursorParam(q: URLSearchParams, name = 'before'): number | undefined {
  const text = q.get(name);
  if (text === null || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new ParamError(`${name} must be an id (the "next" value of a previous page)`);
  return n;
}

/** Any MAC spelling; undefined when absent. */
export function macParam(text: string | null, name = 'mac'): string | undefined {
  if (text === null || text === '') return undefined;
  const mac = normalizeMac(text);
  if (!mac) throw new ParamError(`${name} "${text}" is not a MAC address (e.g. 00:15:65:AA:BB:CC or 001565aabbcc)`);
  return mac;
}

export function incidentParam(q: URLSearchParams): string | undefined {
  const text = q.get('incident');
  if (text === null || text === '') return undefined;
  const slug = isIncidentSlug(text) ? text : resolveIncident(text);
  if (!slug) throw new ParamError(`incident "${text}" is not an incident (see GET /api/v1/openapi.json or actionurl events)`);
  return slug;
}

/** `since`: where a range starts, an ISO time or a span back from now. */
export function sinceParam(q: URLSearchParams, now: number): number | undefined {
  return timeParam(q, 'since', now);
}

/** `until`: like `since`, the end of a range (exclusive). */
export function untilParam(q: URLSearchParams, now: number): number | undefined {
  return timeParam(q, 'until', now);
}

function timeParam(q: URLSearchParams, name: 'since' | 'until', now: number): number | undefined {
  const text = q.get(name);
  if (text === null || text === '') return undefined;
  const at = parseSince(text, now);
  if (at === undefined) throw new ParamError(`${name} "${text}" is neither an ISO time (2025-01-31T08:00:00Z) nor a span like 24h, 90m or 7d`);
  return at;
}

/** `group`: the MACs of that group's phones (an unknown group has none); undefined when absent. */
export function groupParam(q: URLSearchParams, macsIn: (group: string) => string[]): string[] | undefined {
  const text = q.get('group');
  if (text === null || text === '') return undefined;
  return macsIn(text.trim());
}

export function enumParam<T extends string>(q: URLSearchParams, name: string, values: readonly T[]): T | undefined {
  const text = q.get(name);
  if (text === null || text === '') return undefined;
  if (!values.includes(text as T)) throw new ParamError(`${name} must be one of ${values.join(', ')}`);
  return text as T;
}

export function textParam(q: URLSearchParams, name: string): string | undefined {
  const text = q.get(name);
  return text === null || text === '' ? undefined : text;
}
