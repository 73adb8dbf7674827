/**
 * Where and how to reach a phone for a command, from its stored control settings, the fleet defaults and
 * what its events showed (its last `$ip`, model and MAC). Pure: settings in, a target or the reason out.
 */
import { detectVendor } from '../../core/control/index.ts';
import { isVendorId, type VendorId } from '../../core/vendors/index.ts';
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
  seen?: { ip: string; model: string };
}

export function resolveTarget(i: TargetInputs): ControlTarget | { error: string } {
  const setVendor = i.settings?.vendor ?? undefined;
  let vendor: VendorId | undefined;
  let vendorFrom: ControlTarget['vendorFrom'] = 'set';
  if (setVendor && isVendorId(setVendor)) vendor = setVendor;
  else {
    vendor = detectVendor(i.seen?.model ?? '', i.mac);
    vendorFrom = 'events';
  }
  if (!vendor) {
    return { error: `cannot tell which vendor made this phone (model "${i.seen?.model ?? ''}"): set "vendor" with PUT /api/v1/phones/<mac>/control` };
  }
  const url = i.settings?.url ?? (i.seen?.ip ? `http://${i.seen.ip.includes(':') ? `[${i.seen.ip}]` : i.seen.ip}` : undefined);
  if (!url) return { error: 'no address for this phone: it has not reported $ip; set "url" with PUT /api/v1/phones/<mac>/control' };
  const credentials = i.settings?.credentials ?? i.defaults;
  return { baseUrl: url.replace(/\/+$/, ''), vendor, vendorFrom, ...(credentials ? { credentials } : {}) };
}

/** A control URL as the user gives it: http(s), a host, nothing after the path, no credentials in it. */
export function checkControlUrl(text: string): string | { error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { error: `"url" must be the phone's web address, like http://10.0.0.42` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: '"url" must start with http:// or https://' };
  if (u.username || u.password) return { error: 'put credentials in "username" and "password", not in "url" (they are kept sealed there)' };
  if (u.search || u.hash) return { error: '"url" must not have a query or fragment' };
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}
