/**
 * Who a virtual phone is: MAC, IP, model, firmware and SIP accounts. Anything not given is generated, and
 * generated from the MAC, so one MAC always gives the same phone (its IP, its extension).
 */
import { normalizeMac } from '../../core/mac.ts';
import type { AccountIdentity, Device } from '../engine/index.ts';
import { DEFAULT_MODELS, VENDOR_OUIS } from '../../core/control/detect.ts';
import type { VendorId } from '../../core/vendors/types.ts';

export interface PhoneIdentity extends Device {
  /** Whose phone this is: decides its remote-control endpoint, default model and MAC prefix. */
  readonly vendor: VendorId;
  readonly accounts: readonly AccountIdentity[];
}

export interface IdentityOptions {
  mac?: string;
  ip?: string;
  model?: string;
  firmware?: string;
  hardwareVersion?: string;
  accounts?: readonly Partial<AccountIdentity>[];
  /** Default yealink. */
  vendor?: VendorId;
  /** Source of randomness for a generated MAC (default Math.random); the fleet passes its seeded PRNG. */
  random?: () => number;
}

/** Yealink's OUI, as on the spec's example MACs (00:15:65:…); the rest is generated. */
export const DEFAULT_OUI = '001565';
export const DEFAULT_MODEL = 'SIP-T46U';
export const DEFAULT_FIRMWARE = '108.86.0.45';
export const DEFAULT_HARDWARE = '108.0.0.1.0.0.0';
export const DEFAULT_SIP_HOST = 'pbx.example.com';

/** The MAC prefix a vendor's virtual phones use (its maker's OUI). */
export function ouiFor(vendor: VendorId = 'yealink'): string {
  return VENDOR_OUIS[vendor][0];
}

export function randomMac(random: () => number = Math.random, oui = DEFAULT_OUI): string {
  let tail = '';
  for (let i = 0; i < 6; i++) tail += Math.floor(random() * 16).toString(16);
  return oui + tail;
}

/** The MAC of the n-th phone of a fleet: distinct for n < 2^24. */
export function macForIndex(n: number, base = 0, oui = DEFAULT_OUI): string {
  return oui + ((base + n) % 0x1000000).toString(16).padStart(6, '0');
}

/**
 * A loopback address 127.a.b.c derived from the MAC's last 24 bits (c never 0 or 255; distinct MACs rarely
 * collide). A fleet phone has no web server of its own, so it reports an address on this machine rather
 * than a made-up LAN address: whatever a receiver sends there stays on this machine.
 */
export function ipForMac(mac: string): string {
  const v = parseInt(mac.slice(6), 16);
  const host = (v % 254) + 1;
  const rest = Math.floor(v / 254);
  return `127.${Math.floor(rest / 256) % 256}.${rest % 256}.${host}`;
}

/** A five-digit extension from the MAC, so generated accounts of different phones rarely meet. */
export function extensionForMac(mac: string): string {
  return String(10000 + (parseInt(mac.slice(6), 16) % 90000));
}

export function buildIdentity(opts: IdentityOptions = {}): PhoneIdentity {
  let mac: string;
  if (opts.mac !== undefined) {
    const m = normalizeMac(opts.mac);
    if (!m) throw new Error(`"${opts.mac}" is not a MAC address (expected 12 hex digits, e.g. 00:15:65:AA:BB:CC)`);
    mac = m;
  } else {
    mac = randomMac(opts.random, ouiFor(opts.vendor));
  }
  const ext = extensionForMac(mac);
  const given = opts.accounts && opts.accounts.length > 0 ? opts.accounts : [{}];
  const accounts = given.map((a, i) => {
    const user = a.user?.trim() || (i === 0 ? ext : `${ext}${i + 1}`);
    return { user, host: a.host?.trim() || DEFAULT_SIP_HOST, displayName: a.displayName ?? `Desk ${user}` };
  });
  const vendor = opts.vendor ?? 'yealink';
  return {
    vendor,
    mac,
    ip: opts.ip ?? ipForMac(mac),
    model: opts.model ?? DEFAULT_MODELS[vendor],
    firmware: opts.firmware ?? DEFAULT_FIRMWARE,
    hardwareVersion: opts.hardwareVersion ?? DEFAULT_HARDWARE,
    accounts,
  };
}
