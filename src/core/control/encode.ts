/**
 * Server side: a semantic command as the request target a vendor's phone takes (`/servlet?key=OK`). The
 * password never goes in here: `withPasscode` adds it for vendors that take it in the query, at the moment
 * of sending, so a target built here is safe to log.
 */
import type { CommandRequest } from './commands.ts';
import { controlDialect, type ControlDialect } from './dialects.ts';
import type { VendorId } from '../vendors/types.ts';

export interface ControlTarget {
  readonly path: string;
  readonly params: readonly (readonly [string, string])[];
}

export interface EncodeOptions {
  /** 0-based account to dial from (Grandstream `account`, Akuvox `line` = account + 1). Default 0. */
  account?: number;
}

/** Characters left as they are in a query value: vendors split keys on `;` and `:` and read `number=…` raw. */
const KEEP = /%(3B|3A|3D|40)/g;
const KEPT: Record<string, string> = { '%3B': ';', '%3A': ':', '%3D': '=', '%40': '@' };

function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(KEEP, (m) => KEPT[m]);
}

/** `path?a=b&c=d` with values percent-encoded except the separators phones expect raw. */
export function targetText(t: ControlTarget): string {
  if (t.params.length === 0) return t.path;
  return `${t.path}?${t.params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeValue(v)}`).join('&')}`;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(number|account|line)\}/g, (_m, name: string) => values[name]);
}

/** The key presses of a keys step, `{digits}` spelled out one key per character. */
function expandKeys(keys: readonly string[], values: Record<string, string>): string[] {
  return keys.flatMap((k) => (k === '{digits}' ? [...values.number] : [fill(k, values)]));
}

function keysTarget(d: ControlDialect, keys: readonly string[]): ControlTarget {
  return { path: d.keyEndpoint.path, params: [[d.keyEndpoint.param, keys.join(d.keyEndpoint.separator)]] };
}

/**
 * The request for a command, or why this vendor's phones cannot take it. Throws nothing: a request that
 * `parseCommandRequest` accepted always gets one of the two.
 */
export function encodeCommand(vendor: VendorId, req: CommandRequest, opts: EncodeOptions = {}): ControlTarget | { error: string } {
  const d = controlDialect(vendor);
  const account = Math.max(0, Math.trunc(opts.account ?? 0));
  const values = { number: req.number ?? '', account: String(account), line: String(account + 1) };
  if (req.command === 'keys') return keysTarget(d, req.keys ?? []);
  const step = d.commands[req.command];
  if (!step) return { error: `${d.label} phones have no remote ${req.command} command; send the keys for it with the keys command` };
  if ('keys' in step) {
    if (step.keys.includes('{digits}') && !/^[0-9*#]+$/.test(values.number)) {
      return { error: `${d.label} phones dial by key presses: the number must be digits, * and #` };
    }
    return keysTarget(d, expandKeys(step.keys, values));
  }
  return { path: step.path, params: step.params.map(([k, v]) => [k, fill(v, values)] as const) };
}

/** The target with the admin password added as the query's `passcode`, for vendors that authenticate so. */
export function withPasscode(vendor: VendorId, target: ControlTarget, password: string): ControlTarget {
  if (controlDialect(vendor).auth !== 'passcode') return target;
  return { path: target.path, params: [...target.params, ['passcode', password]] };
}
