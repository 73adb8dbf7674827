/**
 * Which vendor made a phone, from what its events show: the model string, else the MAC's maker prefix
 * (OUI). A table, checked in order; undefined when nothing matches (the user then sets the vendor).
 */
import type { VendorId } from '../vendors/types.ts';

/** Model patterns per vendor, most specific first (Akuvox before Fanvil: both have X models). */
const MODEL_PATTERNS: readonly (readonly [RegExp, VendorId])[] = [
  [/yealink|^sip-?t\d|^t\d{2}[a-z]?\b|^(cp|vp|mp|w)\d{2}/i, 'yealink'],
  [/grandstream|^(gxp|grp|gxv|ght|dp|wp|ht)\d/i, 'grandstream'],
  [/snom|^d\d{3}\b|^m\d{2,3}\b/i, 'snom'],
  [/akuvox|^(r2\d|e1\d|e2\d|c31\d|x91\d|s5\d\d|a0\d)/i, 'akuvox'],
  [/fanvil|^(x\d|i\d{2}|h\d|v6\d)/i, 'fanvil'],
];

/** Maker prefixes of the MAC (first 6 hex digits), as the virtual phones use them too. */
export const VENDOR_OUIS: Readonly<Record<VendorId, readonly string[]>> = {
  yealink: ['001565', '805ec0', '249ad8', '44dbd2'],
  snom: ['000413'],
  fanvil: ['0c383e'],
  grandstream: ['000b82', 'c074ad', 'ec74d7'],
  akuvox: ['0c1105'],
};

/** The model each vendor's virtual phone reports unless told otherwise. */
export const DEFAULT_MODELS: Readonly<Record<VendorId, string>> = {
  yealink: 'SIP-T46U',
  snom: 'D785',
  fanvil: 'X6U',
  grandstream: 'GXP2170',
  akuvox: 'R29C',
};

export function vendorOfModel(model: string): VendorId | undefined {
  const m = model.trim();
  if (!m) return undefined;
  for (const [re, vendor] of MODEL_PATTERNS) if (re.test(m)) return vendor;
  return undefined;
}

export function vendorOfMac(mac: string): VendorId | undefined {
  const oui = mac.slice(0, 6).toLowerCase();
  for (const [vendor, prefixes] of Object.entries(VENDOR_OUIS) as [VendorId, readonly string[]][]) {
    if (prefixes.includes(oui)) return vendor;
  }
  return undefined;
}

export function detectVendor(model: string, mac: string): VendorId | undefined {
  return vendorOfModel(model) ?? vendorOfMac(mac);
}
