/**
 * The variables an incident carries, as firmware fills them. Which variables an incident fills comes from
 * the catalog (`variablesFilledBy`); this file only says where each value comes from.
 */
import { VARIABLES, variablesFilledBy, type Variable } from '../../core/catalog.ts';
import type { Account, Call, Device } from './types.ts';

export interface VarSources {
  readonly device: Device;
  /** The account the incident is about (account incidents) or the reported call's account. */
  readonly account: Account | undefined;
  /** The call firmware reports: the phone's first call, or none outside calls. */
  readonly call: Call | undefined;
  /** Engine time (ms), for `$duration`. */
  readonly now: number;
}

type Resolver = (s: VarSources) => string;

const sipUri = (user: string, host: string) => `sip:${user}@${host}`;
const ofAccount = (f: (a: Account) => string): Resolver => (s) => (s.account ? f(s.account) : '');
/** Call variables are empty outside calls (`$remote` is '' when the phone is idle). */
const ofCall = (f: (c: Call, s: VarSources) => string): Resolver => (s) => (s.call ? f(s.call, s) : '');

/** Where each catalog variable's value comes from, by canonical name. */
const RESOLVERS: Readonly<Record<string, Resolver>> = {
  mac: (s) => s.device.mac,
  ip: (s) => s.device.ip,
  model: (s) => s.device.model,
  firmware: (s) => s.device.firmware,
  hardware_version: (s) => s.device.hardwareVersion,
  active_url: ofAccount((a) => sipUri(a.user, a.host)),
  active_user: ofAccount((a) => a.user),
  active_host: ofAccount((a) => a.host),
  local: ofCall((_c, s) => (s.account ? sipUri(s.account.user, s.account.host) : '')),
  remote: ofCall((c) => sipUri(c.remoteUser, c.remoteHost)),
  // Firmware shows the user part when the far end sent no display name, and the account user for ourselves.
  display_local: ofCall((_c, s) => (s.account ? s.account.displayName || s.account.user : '')),
  display_remote: ofCall((c) => c.remoteName || c.remoteUser),
  call_id: ofCall((c) => String(c.id)),
  called_number: ofCall((c) => c.calledNumber),
  duration: ofCall((c, s) => (c.answeredAt === null ? '0' : String(Math.max(0, Math.floor((s.now - c.answeredAt) / 1000))))),
  call_direction: ofCall((c) => c.direction),
};

/** Catalog variables that have no resolver here: must be empty (a test keeps it so). */
export function unresolvedVariables(): Variable[] {
  return VARIABLES.filter((v) => !(v.name in RESOLVERS));
}

const filledCache = new Map<string, readonly Variable[]>();

export function varsFor(slug: string, sources: VarSources): Record<string, string> {
  let filled = filledCache.get(slug);
  if (!filled) {
    filled = variablesFilledBy(slug);
    filledCache.set(slug, filled);
  }
  const out: Record<string, string> = {};
  for (const v of filled) {
    const resolve = RESOLVERS[v.name];
    if (resolve) out[v.name] = resolve(sources);
  }
  return out;
}
