/**
 * The Action URL templates that point a phone at our receiver: `<server>/actionurl/<slug>?mac=$mac&...`,
 * one per incident, carrying every seed variable that incident fills. Config generation, the provisioning
 * endpoint and the receiver's docs all build them here so that they agree on one form.
 */
import { getIncident, INCIDENTS, seedVariablesFilledBy, type Variable } from './catalog.ts';
import type { ActionUrlConfig, VendorId } from './vendors/types.ts';
import { variableSpelling } from './vendors/variables.ts';

export interface IngestUrlOptions {
  /** Shared secret the receiver checks; sent as `token=<T>`. */
  token?: string;
  /**
   * Spell variables as this vendor's phones do (`ip=$phone_ip` for Snom and Grandstream). The query names stay
   * the canonical ones, so the receiver sees `ip=` from every phone. Default: the seed's spellings.
   */
  vendor?: VendorId;
}

/**
 * The server base URL in the one form templates use: http(s), no trailing slash, no query or fragment.
 * A path prefix is kept (a receiver behind a reverse proxy at `https://host/phones`). Throws a one-line
 * Error a CLI can show as is.
 */
export function normalizeServerUrl(server: string): string {
  const input = server.trim();
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new Error(`server "${server}" is not a URL; expected e.g. http://192.168.1.10:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`server "${server}" must start with http:// or https://`);
  }
  if (url.search || url.hash || input.includes('?') || input.includes('#')) {
    throw new Error(`server "${server}" must not have a query or fragment; give only the base URL`);
  }
  // Phones substitute `$name` anywhere in the URL, so a `$` in the base would be mangled on the wire.
  if (input.includes('$')) throw new Error(`server "${server}" must not contain "$"`);
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${auth}${url.host}${path}`;
}

/** The template for one incident, e.g. `http://h:8080/actionurl/registered?mac=$mac&ip=$ip&...&token=T`. */
export function ingestUrlTemplate(server: string, slug: string, opts: IngestUrlOptions = {}): string {
  const base = normalizeServerUrl(server);
  const incident = getIncident(slug);
  const pair = (v: Variable) => `${v.name}=$${opts.vendor ? variableSpelling(v, opts.vendor) : v.name}`;
  const filled = seedVariablesFilledBy(incident);
  const pairs = filled.filter((v) => !v.fromCaller).map(pair);
  // encodeURIComponent also turns `$` into %24, so no phone mistakes part of a token for a variable.
  if (opts.token !== undefined && opts.token !== '') pairs.push(`token=${encodeURIComponent(opts.token)}`);
  // Phones do not encode values, and a caller picks their own name: `Bob&call_id=9` arrives as two pairs.
  // Values a caller controls go last, so the receiver (which keeps the first value of a repeated name) always
  // gets the phone's own mac, call_id and token.
  pairs.push(...filled.filter((v) => v.fromCaller).map(pair));
  return `${base}/actionurl/${incident.slug}?${pairs.join('&')}`;
}

/** A config with the switch on and every incident pointing at the receiver (all 34; writers keep what a vendor has). */
export function ingestConfig(server: string, opts: IngestUrlOptions = {}): ActionUrlConfig {
  const urls: Record<string, string> = {};
  for (const incident of INCIDENTS) urls[incident.slug] = ingestUrlTemplate(server, incident.slug, opts);
  return { enabled: true, urls };
}
