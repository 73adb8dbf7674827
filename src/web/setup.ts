/**
 * What the Set-up page needs from the server: the URL template a phone should call for each incident, and
 * ready-made config files per vendor. Both come from the shared core (`ingest-url.ts`, the vendor codecs),
 * so the page shows exactly what `actionurl config generate` writes.
 */
import { INCIDENTS, VARIABLES } from '../core/catalog.ts';
import { ingestConfig, ingestUrlTemplate } from '../core/ingest-url.ts';
import { normalizeMac } from '../core/mac.ts';
import { ingestTokenFor, type IngestTokens } from '../core/phone-token.ts';
import { isVendorId, renderConfigFile, supportedIncidents, VENDOR_CODECS } from '../core/vendors/index.ts';
import type { ServerAddress } from '../http/server-url.ts';

/**
 * The MAC the "test it" button reports as: from the range RFC 7042 reserves for documentation, so it can
 * never be a real phone's.
 */
export const TEST_MAC = '00005e005301';

/** The incident and variable catalog for the pages (names and descriptions to show next to slugs). */
export function catalogJson(): unknown {
  return {
    incidents: INCIDENTS.map((i) => ({ n: i.n, slug: i.slug, name: i.name, description: i.description, kind: i.kind })),
    variables: VARIABLES.map((v) => ({ name: v.name, description: v.description, scope: v.scope, seed: v.seed })),
  };
}

export function setupJson(server: ServerAddress, tokens: IngestTokens): unknown {
  // Templates use the canonical variable names; the config files below use each vendor's own spellings.
  // With per-phone tokens only, no template fits every phone: each phone's config file carries its own.
  const shared = tokens.token || undefined;
  const opts = shared ? { token: shared } : {};
  return {
    server: server.url,
    server_source: server.source,
    token: shared ?? null,
    per_phone_tokens: Boolean(tokens.tokenSecret),
    test_mac: TEST_MAC,
    incidents: INCIDENTS.map((i) => ({
      slug: i.slug,
      name: i.name,
      description: i.description,
      template: ingestUrlTemplate(server.url, i.slug, opts),
    })),
    vendors: [...VENDOR_CODECS.values()].map((c) => ({
      id: c.id,
      label: c.label,
      formats: c.formats,
      common_file: c.fileName() ?? null,
      has_master_switch: c.hasMasterSwitch,
      supported: supportedIncidents(c).length,
      total: INCIDENTS.length,
    })),
  };
}

export type ConfigDownload =
  | { ok: true; fileName: string; text: string; contentType: string }
  | { ok: false; status: number; error: string };

/** The config file for `vendor`, pointing at `server`, for one phone (`mac`) or the vendor's common file. */
export function configDownload(
  vendor: string,
  query: URLSearchParams,
  server: ServerAddress,
  tokens: IngestTokens,
): ConfigDownload {
  if (!isVendorId(vendor)) return { ok: false, status: 404, error: `unknown vendor "${vendor}"` };
  const macText = (query.get('mac') ?? '').trim();
  const mac = macText ? normalizeMac(macText) : undefined;
  if (macText && !mac) return { ok: false, status: 400, error: `"${macText}" is not a MAC address` };
  const codec = VENDOR_CODECS.get(vendor)!;
  const format = query.get('format') || undefined;
  if (format !== undefined && !codec.formats.includes(format)) {
    return { ok: false, status: 400, error: `${codec.label} has no format "${format}" (one of ${codec.formats.join(', ')})` };
  }
  const token = ingestTokenFor(tokens, mac);
  if (tokens.tokenSecret && !token) {
    return { ok: false, status: 400, error: 'each phone has its own ingest token: give the phone\'s MAC to get its file' };
  }
  // Variables spelled as this vendor's phones spell them, as the receiver's /provision files do.
  const config = ingestConfig(server.url, { ...(token ? { token } : {}), vendor });
  try {
    const rendered = renderConfigFile(vendor, config, { ...(mac ? { mac } : {}), ...(format ? { format } : {}) });
    const xml = rendered.text.trimStart().startsWith('<') && !rendered.text.startsWith('<<');
    const fileName = rendered.fileName ?? `actionurl-${vendor}.${xml ? 'xml' : 'cfg'}`;
    const contentType = xml ? 'application/xml; charset=utf-8' : 'text/plain; charset=utf-8';
    return { ok: true, fileName, text: rendered.text, contentType };
  } catch (err) {
    return { ok: false, status: 400, error: err instanceof Error ? err.message : String(err) };
  }
}
