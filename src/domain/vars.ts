/**
 * Reading an event's variables. Values come from phones and may be missing, empty, padded, huge or not
 * strings at all (events restored from storage, hand-written tests); every reader here returns a plain
 * string of at most MAX_TEXT characters instead.
 */
import { createHash } from 'node:crypto';
import { clip, MAX_FINGERPRINT } from './limits.ts';

/** Canonical variable names the reducer reads (each is in the catalog; a test checks it). */
export const VAR = {
  ip: 'ip',
  model: 'model',
  firmware: 'firmware',
  activeUrl: 'active_url',
  activeUser: 'active_user',
  activeHost: 'active_host',
  local: 'local',
  remote: 'remote',
  displayRemote: 'display_remote',
  displayLocal: 'display_local',
  callId: 'call_id',
  callDirection: 'call_direction',
} as const;

/** The trimmed value of a variable (at most MAX_TEXT characters), or '' when it is absent or not text. */
export function textVar(vars: unknown, name: string): string {
  if (typeof vars !== 'object' || vars === null || !Object.hasOwn(vars, name)) return '';
  const value = (vars as Record<string, unknown>)[name];
  return typeof value === 'string' ? clip(value.trim()) : '';
}

/**
 * The account an event names, as `user@host`: from `$active_url` (`sip:1001@pbx.example.com;transport=udp`),
 * else `$active_user` and `$active_host`. '' when the phone filled neither.
 */
export function accountIdOf(vars: unknown): string {
  const url = textVar(vars, VAR.activeUrl);
  if (url !== '') return bareAddress(url);
  const user = textVar(vars, VAR.activeUser);
  const host = textVar(vars, VAR.activeHost);
  if (user !== '' && host !== '') return clip(`${user}@${host.toLowerCase()}`);
  return user !== '' ? user : host.toLowerCase();
}

/** `<sip:1001@PBX.example.com;transport=udp>` -> `1001@pbx.example.com`. */
function bareAddress(uri: string): string {
  let text = uri.replace(/^<|>$/g, '').replace(/^sips?:/i, '');
  const params = text.indexOf(';');
  if (params !== -1) text = text.slice(0, params);
  const at = text.lastIndexOf('@');
  return at === -1 ? text : `${text.slice(0, at)}@${text.slice(at + 1).toLowerCase()}`;
}

/** The call's direction when the phone says it (Grandstream `$calldirection`), else 'unknown'. */
export function directionOf(vars: unknown): 'incoming' | 'outgoing' | 'unknown' {
  const text = textVar(vars, VAR.callDirection).toLowerCase();
  if (text.startsWith('in')) return 'incoming';
  if (text.startsWith('out')) return 'outgoing';
  return 'unknown';
}

/**
 * What an event says, independent of when it arrived: two requests with the same fingerprint are copies.
 * The incident and every variable whose value is text, by name in code-unit order; each part is prefixed
 * by its length, so no two different events give the same text. Runs on every event: no intermediate
 * entry arrays, no JSON.
 */
export function fingerprintOf(incident: unknown, vars: unknown): string {
  const parts: string[] = [typeof incident === 'string' ? `${incident.length}:${incident}` : '0:'];
  if (typeof vars === 'object' && vars !== null) {
    const names = Object.keys(vars);
    // Insertion sort by UTF-16 code units (like `<`): a dozen names, and no allocation, unlike Array#sort.
    for (let i = 1; i < names.length; i++) {
      const name = names[i];
      let j = i - 1;
      while (j >= 0 && names[j] > name) {
        names[j + 1] = names[j];
        j--;
      }
      names[j + 1] = name;
    }
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const value = (vars as Record<string, unknown>)[name];
      if (typeof value === 'string') parts.push(`|${name.length}:${name}${value.length}:${value}`);
    }
  }
  const text = parts.join('');
  // Kept in every phone's state: a long one is kept as a digest (a different prefix, so it never equals a plain one).
  return text.length <= MAX_FINGERPRINT ? text : `#${createHash('sha256').update(text).digest('base64')}`;
}
