/**
 * Loading and saving the phone's Action URL settings as a vendor config file, through the core codecs.
 * A file is refused, with line-level reasons, when a line about Action URL cannot be used or a URL does not
 * pass the linter: a phone must not run with half of what its administrator wrote.
 */
import {
  getVendorCodec, isVendorId, renderConfigFile, VENDOR_IDS, vendorsForFileName,
  type ActionUrlConfig, type RenderedConfig, type VendorId,
} from '../../core/vendors/index.ts';
import { checkConfig, normalizeConfig } from './action-url.ts';

export interface LoadedConfig {
  config: ActionUrlConfig;
  vendor: VendorId;
  /** Things worth knowing that did not stop the load (no switch in the file, lint warnings). */
  notes: string[];
}

export interface RefusedConfig {
  error: string;
  /** One line per reason, `line N: …` where the file has a line to point at. */
  problems: string[];
}

export function isRefused(r: LoadedConfig | RefusedConfig): r is RefusedConfig {
  return 'error' in r;
}

/**
 * Which vendor's format a file is in, from its name and content. Key = value files with no Akuvox switch and
 * no Akuvox file name read the same for Yealink and Akuvox; they are taken as Yealink.
 */
export function detectVendor(text: string, fileName = ''): VendorId | undefined {
  const head = text.replace(/^\uFEFF/, '').trimStart();
  if (/^<<VOIP CONFIG FILE>>/i.test(head) || /^<[^<>]+ CONFIG MODULE>\s*$/im.test(text)) return 'fanvil';
  if (/<gs_provision[\s>]/i.test(text)) return 'grandstream';
  if (/<settings[\s>]/i.test(text) && /<phone-settings[\s>]/i.test(text)) return 'snom';
  if (head.startsWith('<')) return undefined;
  if (/Config\.Features\.ACTIONURL\./i.test(text)) return 'akuvox';
  const byName = vendorsForFileName(fileName.split(/[\\/]/).pop() ?? '').map((m) => m.vendor);
  if (byName.length === 1) return byName[0];
  if (/^\s*[\w.]+\s*=/m.test(text)) return 'yealink';
  return undefined;
}

export function parseVendor(value: string): VendorId | undefined {
  const id = value.trim().toLowerCase();
  return isVendorId(id) ? id : undefined;
}

export function loadConfigText(text: string, opts: { vendor?: VendorId; fileName?: string } = {}): LoadedConfig | RefusedConfig {
  const vendor = opts.vendor ?? detectVendor(text, opts.fileName);
  if (!vendor) {
    return {
      error: `cannot tell which vendor's format this file is in; name the vendor (one of ${VENDOR_IDS.join(', ')})`,
      problems: [],
    };
  }
  const codec = getVendorCodec(vendor);
  const read = codec.read(text);
  if (read.error) return { error: read.error, problems: [] };
  const problems = read.unused.map((u) => `line ${u.line}: ${u.reason}: ${u.text}`);
  const config = normalizeConfig(read.config);
  const check = checkConfig(config);
  const lines = text.split(/\r\n|\n|\r/);
  const where = (url: string) => {
    const n = lines.findIndex((l) => l.includes(url));
    return n === -1 ? '' : `line ${n + 1}: `;
  };
  for (const e of check.errors) problems.push(`${where(config.urls[e.slug] ?? '')}${e.slug}: ${e.message}`);
  if (problems.length > 0) {
    return { error: `the ${codec.label} file cannot be used as it is (${problems.length} problem${problems.length > 1 ? 's' : ''})`, problems };
  }
  const notes = [
    ...read.notes,
    ...check.warnings.map((w) => `${w.slug}: ${w.message}`),
  ];
  return { config, vendor, notes };
}

export function saveConfigText(config: ActionUrlConfig, vendor: VendorId, mac?: string): RenderedConfig {
  return renderConfigFile(vendor, config, mac ? { mac } : {});
}
