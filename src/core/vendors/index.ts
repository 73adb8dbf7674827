/**
 * The vendor registry and the operations built on the codecs: render a config for a phone (with the notes a
 * user must see), convert a file from one vendor to another, and recognise a requested file name.
 */
import { INCIDENTS, isIncidentSlug, VENDORS } from '../catalog.ts';
import { MAX_URL_LENGTH } from '../templates.ts';
import { akuvox } from './akuvox.ts';
import { requireMac } from './common.ts';
import { fanvil } from './fanvil.ts';
import { grandstream } from './grandstream.ts';
import { snom } from './snom.ts';
import type { ActionUrlConfig, ReadResult, VendorCodec, VendorId, WriteOptions } from './types.ts';
import { respellVariables } from './variables.ts';
import { yealink } from './yealink.ts';

export type { ActionUrlConfig, ReadResult, UnusedLine, VendorCodec, VendorId, WriteOptions } from './types.ts';
export { escapeXml, unescapeXml } from './xml.ts';
export { respellVariables, variableSpelling } from './variables.ts';


export const VENDOR_CODECS: ReadonlyMap<VendorId, VendorCodec> = new Map(
  [yealink, akuvox, fanvil, snom, grandstream].map((c) => [c.id, c]),
);

export const VENDOR_IDS: readonly VendorId[] = VENDORS;

export function isVendorId(id: string): id is VendorId {
  return VENDOR_CODECS.has(id as VendorId);
}

/** The codec of a vendor id; throws for an unknown id (check with isVendorId first for user input). */
export function getVendorCodec(id: string): VendorCodec {
  const codec = VENDOR_CODECS.get(id as VendorId);
  if (!codec) throw new Error(`unknown vendor "${id}" (expected one of ${VENDOR_IDS.join(', ')})`);
  return codec;
}

/** Slugs the vendor has a setting for, in catalog order. */
export function supportedIncidents(vendor: VendorId | VendorCodec): string[] {
  const codec = typeof vendor === 'string' ? getVendorCodec(vendor) : vendor;
  return INCIDENTS.filter((i) => codec.keyFor(i.slug) !== undefined).map((i) => i.slug);
}

/** Slugs the vendor has no setting for, in catalog order. */
export function unsupportedIncidents(vendor: VendorId | VendorCodec): string[] {
  const codec = typeof vendor === 'string' ? getVendorCodec(vendor) : vendor;
  return INCIDENTS.filter((i) => codec.keyFor(i.slug) === undefined).map((i) => i.slug);
}

export interface RenderedConfig {
  /** The file text, exactly as the phone should receive it. */
  text: string;
  /** The file name the phone asks for (undefined: no MAC given and the vendor has no common file). */
  fileName?: string;
  /** Incidents with a URL in the config that this vendor has no setting for: left out of the file. */
  lacking: string[];
  /** Other things the user should know about the file (no on/off switch, URL too long, unknown incidents). */
  notes: string[];
}

/**
 * The config file for a phone of `vendor`, with everything that could not go into it listed. Throws only on
 * a bad MAC, an unknown format, or a URL no config file can hold.
 */
export function renderConfigFile(vendor: VendorId, config: ActionUrlConfig, opts: WriteOptions = {}): RenderedConfig {
  const codec = getVendorCodec(vendor);
  const text = codec.write(config, opts);
  const withUrl = Object.keys(config.urls).filter((slug) => config.urls[slug] !== '');
  const lacking = withUrl.filter((slug) => isIncidentSlug(slug) && codec.keyFor(slug, opts.format) === undefined);
  const notes: string[] = [...(codec.caveats?.(opts.format) ?? [])];
  const unknown = withUrl.filter((slug) => !isIncidentSlug(slug));
  if (unknown.length) notes.push(`not catalog incidents, left out: ${unknown.join(', ')}`);
  if (!config.enabled && !codec.hasMasterSwitch) {
    notes.push(`${codec.label} phones have no Action URL on/off switch: "off" is written as an empty URL for every incident, so the phone sends nothing`);
  }
  const long = withUrl.filter((slug) => isIncidentSlug(slug) && config.urls[slug].length > MAX_URL_LENGTH);
  if (long.length) notes.push(`URLs longer than ${MAX_URL_LENGTH} characters, which phones cut or refuse: ${long.join(', ')}`);
  const fileName = opts.mac === undefined ? codec.fileName() : codec.fileName(requireMac(opts.mac));
  return { text, ...(fileName ? { fileName } : {}), lacking, notes };
}

export interface Conversion {
  /** What was read from the source file (its unused lines and notes are for the user). */
  read: ReadResult;
  /** The target file, absent when the source was not the `from` vendor's format at all (see read.error). */
  rendered?: RenderedConfig;
}

/**
 * Reads a `from` file and writes the same config for `to`; never drops anything silently. Variables are
 * respelled where the target's phones spell them differently (`$ip` -> `$phone_ip` for Snom), and said so.
 */
export function convertConfigFile(text: string, from: VendorId, to: VendorId, opts: WriteOptions = {}): Conversion {
  const read = getVendorCodec(from).read(text);
  if (read.error) return { read };
  const mac = opts.mac ?? read.mac;
  // Keep the source's format variant when converting within one vendor and none was asked for.
  const format = opts.format ?? (from === to ? read.format : undefined);
  const urls: Record<string, string> = {};
  const respelled = new Set<string>();
  for (const [slug, url] of Object.entries(read.config.urls)) {
    const r = respellVariables(url, to);
    urls[slug] = r.url;
    for (const change of r.changes) respelled.add(change);
  }
  const config = { enabled: read.config.enabled, urls };
  const rendered = renderConfigFile(to, config, { ...(mac ? { mac } : {}), ...(format ? { format } : {}) });
  if (respelled.size) {
    rendered.notes.push(`variables respelled as ${getVendorCodec(to).label} phones expect them: ${[...respelled].join(', ')}`);
  }
  return { read, rendered };
}

/** Vendors whose phones request a file of this name, with the MAC it names (several vendors share `<mac>.cfg`). */
export function vendorsForFileName(name: string): { vendor: VendorId; mac?: string }[] {
  const out: { vendor: VendorId; mac?: string }[] = [];
  for (const codec of VENDOR_CODECS.values()) {
    const m = codec.matchFileName(name);
    if (m) out.push({ vendor: codec.id, ...m });
  }
  return out;
}
