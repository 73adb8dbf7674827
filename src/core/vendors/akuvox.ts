/**
 * Akuvox desk phone .cfg files: Yealink's keys plus the seed's "Active: Enabled" switch.
 */
import { incidentBySlugOrUndefined } from '../catalog.ts';
import { requireMac, supportedSlugs, urlsToWrite } from './common.ts';
import { readKeyValue, writeKeyValue, type KeyValueDialect } from './keyvalue.ts';
import type { VendorCodec } from './types.ts';

const dialect: KeyValueDialect = {
  label: 'Akuvox',
  keyFor: (slug) => incidentBySlugOrUndefined(slug)?.keys.akuvox,
  // The web page's "Active: Enabled" switch, as Akuvox names it in config files.
  switchKey: 'Config.Features.ACTIONURL.Enable',
};
const supported = supportedSlugs(dialect.keyFor);

function fileName(mac: string): string;
function fileName(mac?: string): string | undefined;
function fileName(mac?: string): string | undefined {
  // Akuvox asks for the MAC in upper case; r000000000000.cfg is the file for every phone.
  return mac === undefined ? 'r000000000000.cfg' : `${requireMac(mac).toUpperCase()}.cfg`;
}

export const akuvox: VendorCodec = {
  id: 'akuvox',
  label: dialect.label,
  hasMasterSwitch: true,
  formats: ['cfg'],
  keyFor: (slug) => dialect.keyFor(slug),
  fileName,
  matchFileName(name) {
    if (/^r0000000000[0-9a-f]{2}\.cfg$/i.test(name)) return {};
    const m = /^([0-9a-f]{12})\.cfg$/i.exec(name);
    return m ? { mac: m[1].toLowerCase() } : undefined;
  },
  write: (config) => writeKeyValue(dialect, config, urlsToWrite(config, supported)),
  read: (text) => readKeyValue(dialect, text),
};
