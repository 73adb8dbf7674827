/**
 * Yealink (and Yealink-family: Matrix, Alcatel-Lucent ALE) .cfg files. The phone has no Action URL on/off
 * switch, so "off" is written as empty URLs.
 */
import { incidentBySlugOrUndefined } from '../catalog.ts';
import { entriesForSwitchlessPhone, requireMac, supportedSlugs } from './common.ts';
import { readKeyValue, writeKeyValue, type KeyValueDialect } from './keyvalue.ts';
import type { VendorCodec } from './types.ts';

const dialect: KeyValueDialect = {
  label: 'Yealink',
  keyFor: (slug) => incidentBySlugOrUndefined(slug)?.keys.yealink,
  // Yealink firmware ignores a .cfg file whose first line is not this.
  header: '#!version:1.0.0.1',
};
const supported = supportedSlugs(dialect.keyFor);

function fileName(mac: string): string;
function fileName(mac?: string): string | undefined;
function fileName(mac?: string): string | undefined {
  // y000000000000.cfg is read by every model; y0000000000xx.cfg by one model family.
  return mac === undefined ? 'y000000000000.cfg' : `${requireMac(mac)}.cfg`;
}

export const yealink: VendorCodec = {
  id: 'yealink',
  label: dialect.label,
  hasMasterSwitch: false,
  formats: ['cfg'],
  keyFor: (slug) => dialect.keyFor(slug),
  fileName,
  matchFileName(name) {
    if (/^y0000000000[0-9a-f]{2}\.cfg$/i.test(name)) return {};
    const m = /^([0-9a-f]{12})\.cfg$/i.exec(name);
    return m ? { mac: m[1].toLowerCase() } : undefined;
  },
  write: (config) => writeKeyValue(dialect, config, entriesForSwitchlessPhone(config, supported)),
  read: (text) => readKeyValue(dialect, text),
};
