/**
 * Where and how to reach a phone for a command, from its stored control settings, the fleet defaults and
 * what its events showed (its model, for the vendor). The address is only ever the one the admin approved
 * (the stored `url`): what a phone's events say about its address never decides where a command goes.
 * Pure: settings in, a target or the reason out.
 */
import { detectVendor } from '../../core/control/index.ts';
import { isVendorId, type VendorId } from '../../core/vendors/index.ts';
import type { ControlNetworks } from './networks.ts';
import type { PhoneCredentials } from './secrets.ts';

export interface ControlTarget {
  /** Base URL of the phone's web server, no trailing slash. */
  baseUrl: string;
  vendor: VendorId;
  /** How the vendor was decided. */
  vendorFrom: 'set' | 'events';
  credentials?: PhoneCredentials;
}

export interface TargetInputs {
  mac: string;
  /** The stored settings, if any (credentials already opened). */
  settings?: { url: string | null; vendor: string | null; credentials?: PhoneCredentials };
  defaults?: PhoneCredentials;
  /** What the phone's events showed, if it sent any. */
  seen?: { model: string };
}

/** The phone's vendor: as set, else recognised from its model and MAC; or why it cannot be told. */
export function resolveVendor(i: TargetInputs): { vendor: VendorId; vendorFrom: ControlTarget['vendorFrom'] } | { error: string } {
  const setVendor = i.settings?.vendor ?? undefined;
  if (setVendor && isVendorId(setVendor)) return { vendor: setVendor, vendorFrom: 'set' };
  const vendor = detectVendor(i.seen?.model ?? '', i.mac);
  if (vendor) return { vendor, vendorFrom: 'events' };
  return { error: `cannot tell which vendor made this phone (model "${i.seen?.model ?? ''}"): set "vendor" with PUT /api/v1/phones/<mac>/control` };
}

export function resolveTarget(i: TargetInputs): ControlTarget | { error: string } {
  const v = resolveVendor(i);
  if ('error' in v) return v;
  const url = i.settings?.url;
  if (!url) return { error: `no approved control address for this phone: set "url" with PUT /api/v1/phones/${i.mac}/control` };
  const credentials = i.settings?.credentials ?? i.defaults;
  return { baseUrl: url.replace(/\/+$/, ''), ...v, ...(credentials ? { credentials } : {}) };
}

/**
 * A control URL as the user gives it: http(s), a host the receiver may control (`networks`), nothing after
 * the path, no credentials in it.
 */
export function checkControlUrl(text: string, networks: ControlNetworks): string | { error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { error: `"url" must be the phone's web address, like http://10.0.0.42` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: '"url" must start with http:// or https://' };
  if (u.username || u.password) return { error: 'put credentials in "username" and "password", not in "url" (they are kept sealed there)' };
  if (u.search || u.hash) return { error: '"url" must not have a query or fragment' };
  const refused = networks.refuseHost(u.hostname);
  if (refused) return { error: `"url" refused: ${refused}` };
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}
