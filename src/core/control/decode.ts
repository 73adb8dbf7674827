/**
 * Phone side: what a control request asks the phone to do, read with the same dialect table the server
 * encodes with. A request the phone does not understand gets a reason, never a guess.
 */
import type { PhoneOperation } from './commands.ts';
import { controlDialect, type ControlDialect } from './dialects.ts';
import type { VendorId } from '../vendors/types.ts';

const DIGIT = /^[0-9*#]$/;

/** True when `path` is one of this vendor's control endpoints (so the phone's web server routes it here). */
export function isControlPath(vendor: VendorId, path: string): boolean {
  const d = controlDialect(vendor);
  if (path === d.keyEndpoint.path || d.keyEndpoint.olderPaths?.includes(path)) return true;
  return Object.values(d.commands).some((step) => 'path' in step && step.path === path);
}

function keyOperation(d: ControlDialect, key: string): PhoneOperation | undefined {
  if (Object.hasOwn(d.keys, key)) return d.keys[key];
  if (DIGIT.test(key)) return { op: 'digit', digit: key };
  for (const [prefix, op] of d.keyPrefixes ?? []) {
    if (!key.startsWith(prefix) || key.length === prefix.length) continue;
    // Per-call keys name the call (`ASW:3`); the phone acts on its current call, as for the plain key.
    return op === 'dial' ? { op, number: key.slice(prefix.length) } : ({ op } as PhoneOperation);
  }
  return undefined;
}

/** Does a request step of the table match these parameters? Then what it means, with the number filled in. */
function matchStep(path: string, params: URLSearchParams, stepPath: string, stepParams: readonly (readonly [string, string])[], means: PhoneOperation): PhoneOperation | undefined {
  if (path !== stepPath) return undefined;
  let number: string | undefined;
  for (const [name, value] of stepParams) {
    const got = params.get(name);
    if (got === null) return undefined;
    if (value === '{number}') number = got;
    else if (!value.startsWith('{') && got !== value) return undefined;
  }
  if (means.op === 'dial') return number ? { op: 'dial', number } : undefined;
  return means;
}

/** Which generation of firmware the phone runs: `older` serves only the key endpoint's older paths. */
export interface DecodeOptions {
  olderFirmware?: boolean;
}

/** The key endpoint paths a phone of this firmware generation serves. */
function keyPaths(d: ControlDialect, opts: DecodeOptions): readonly string[] {
  const older = d.keyEndpoint.olderPaths ?? [];
  return opts.olderFirmware && older.length > 0 ? older : [d.keyEndpoint.path, ...older];
}

/**
 * The operations a request asks for, in order; `error` (with the HTTP status a phone answers) when the
 * request is not one this vendor's phones take.
 */
export function decodeControlRequest(
  vendor: VendorId, path: string, params: URLSearchParams, opts: DecodeOptions = {},
): { operations: PhoneOperation[] } | { status: 400 | 404; error: string } {
  const d = controlDialect(vendor);
  for (const step of Object.values(d.commands)) {
    if (!('path' in step)) continue;
    const op = matchStep(path, params, step.path, step.params, step.means);
    if (op) return { operations: [op] };
  }
  const ke = d.keyEndpoint;
  if (!keyPaths(d, opts).includes(path)) return { status: 404, error: 'not a control endpoint of this phone' };
  const text = params.get(ke.param);
  if (text === null || text === '') return { status: 400, error: `missing ${ke.param}=` };
  const operations: PhoneOperation[] = [];
  for (const key of text.split(ke.separator)) {
    const op = keyOperation(d, key.trim());
    if (!op) return { status: 400, error: `unknown key "${key.slice(0, 40)}"` };
    operations.push(op);
  }
  return { operations };
}
