/**
 * `GET /provision/<file>`: the config file a phone asks its provisioning server for, with every Action URL
 * pointing at this receiver (and carrying its ingest token). The vendor comes from the file name; where
 * several vendors use the same name (`<mac>.cfg`: Yealink, Akuvox, Fanvil) the phone's User-Agent decides,
 * then Yealink. `?vendor=` overrides both. With per-phone tokens (`--token-secret`) a file named for a MAC
 * carries that phone's own token; a common file (no MAC) carries the shared `--token`, or is refused.
 */
import { ingestConfig } from '../core/ingest-url.ts';
import { getVendorCodec, isVendorId, renderConfigFile, vendorsForFileName, type VendorId } from '../core/vendors/index.ts';
import { normalizeMac } from '../core/mac.ts';
import { ingestTokenFor } from '../core/phone-token.ts';
import { serverAddressOf } from '../http/server-url.ts';
import type { HttpRequest } from '../http/types.ts';
import type { ReceiverSettings } from './context.ts';

const PREFERENCE: readonly VendorId[] = ['yealink', 'akuvox', 'fanvil', 'snom', 'grandstream'];

const USER_AGENTS: readonly [RegExp, VendorId][] = [
  [/yealink/i, 'yealink'],
  [/akuvox/i, 'akuvox'],
  [/fanvil/i, 'fanvil'],
  [/snom/i, 'snom'],
  [/grandstream/i, 'grandstream'],
];

export interface ProvisionChoice {
  vendor: VendorId;
  mac?: string;
}

/** Which vendor's file to serve for a requested name; undefined when no vendor asks for such a name. */
export function chooseVendor(fileName: string, userAgent: string | undefined, override?: string): ProvisionChoice | undefined {
  const candidates = vendorsForFileName(fileName);
  if (override !== undefined) {
    if (!isVendorId(override)) return undefined;
    const hit = candidates.find((c) => c.vendor === override) ?? getVendorCodec(override).matchFileName(fileName);
    if (hit) return { vendor: override, ...(hit.mac ? { mac: hit.mac } : {}) };
    // A name in another vendor's pattern still tells us the MAC.
    const mac = candidates.find((c) => c.mac)?.mac ?? normalizeMac(fileName.replace(/\.[a-z]+$/i, '').replace(/^cfg/i, ''));
    return { vendor: override, ...(mac ? { mac } : {}) };
  }
  if (candidates.length === 0) return undefined;
  const fromAgent = USER_AGENTS.find(([re]) => userAgent !== undefined && re.test(userAgent))?.[1];
  const byAgent = candidates.find((c) => c.vendor === fromAgent);
  if (byAgent) return byAgent;
  return [...candidates].sort((a, b) => PREFERENCE.indexOf(a.vendor) - PREFERENCE.indexOf(b.vendor))[0];
}

export interface ProvisionedFile {
  vendor: VendorId;
  fileName: string;
  text: string;
  contentType: string;
}

/**
 * The token a file carries: the phone's derived token when per-phone tokens are on and the name gives a MAC,
 * else the shared token. A common file with only per-phone tokens on has none to carry: a 404 saying so.
 */
export function tokenFor(choice: ProvisionChoice, settings: ReceiverSettings): string | undefined | { error: string; status: number } {
  const token = ingestTokenFor(settings, choice.mac);
  if (token !== undefined || !settings.tokenSecret) return token;
  return {
    status: 404,
    error:
      'no common config file with --token-secret: each phone\'s token comes from its MAC, so provision per MAC ' +
      '(e.g. /provision/<mac>.cfg, cfg<mac>.xml, <MAC>.xml), or also set --token for a shared token in common files',
  };
}

/** The file for a request, or a one-line error for a name no vendor uses or a Host no URL can hold. */
export function provisionFile(req: HttpRequest, fileName: string, settings: ReceiverSettings): ProvisionedFile | { error: string; status: number } {
  const choice = chooseVendor(fileName, req.headers['user-agent'], req.query.get('vendor') ?? undefined);
  if (!choice) {
    const override = req.query.get('vendor');
    if (override !== null && !isVendorId(override)) return { status: 400, error: `unknown vendor "${override}" (expected yealink, akuvox, fanvil, snom or grandstream)` };
    return { status: 404, error: `no phone asks for "${fileName}": expected e.g. <mac>.cfg, y000000000000.cfg, r000000000000.cfg, cfg<mac>.xml or <MAC>.xml` };
  }
  let server: string;
  try {
    server = serverAddressOf(req, settings).url;
  } catch (err) {
    return { status: 400, error: (err as Error).message };
  }
  const token = tokenFor(choice, settings);
  if (typeof token === 'object') return token;
  const config = ingestConfig(server, { token, vendor: choice.vendor });
  const rendered = renderConfigFile(choice.vendor, config, choice.mac ? { mac: choice.mac } : {});
  const xml = /\.xml$/i.test(fileName) || rendered.text.trimStart().startsWith('<?xml') || rendered.text.trimStart().startsWith('<gs_provision');
  return {
    vendor: choice.vendor,
    fileName,
    text: rendered.text,
    contentType: xml ? 'application/xml; charset=utf-8' : 'text/plain; charset=utf-8',
  };
}
