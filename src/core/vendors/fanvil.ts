/**
 * Fanvil text config (`<<VOIP CONFIG FILE>>`): CRLF lines, `<XXX CONFIG MODULE>` sections, `Key<padding>:value`.
 * Action URL lives in `<CTI CONFIG MODULE>`, with the master switch `Enabled Action Url`.
 */
import { incidentBySlugOrUndefined } from '../catalog.ts';
import {
  isCommentLine, keyForMatching, keyTable, notThisFormat, ReadCollector, requireMac, splitLines, supportedSlugs,
  urlsToWrite,
} from './common.ts';
import type { VendorCodec } from './types.ts';

const keyFor = (slug: string) => incidentBySlugOrUndefined(slug)?.keys.fanvil;
const supported = supportedSlugs(keyFor);
const table = keyTable(keyFor);

const HEADER = '<<VOIP CONFIG FILE>>Version:2.0000000000';
/** Fanvil's own exports pad the header line to 62 characters (64 bytes with CRLF); some firmware checks it. */
const HEADER_WIDTH = 62;
const FOOTER = '<<END OF FILE>>';
const SECTION = 'CTI CONFIG MODULE';
const SWITCH_KEY = 'Enabled Action Url';
/** Fanvil exports put the colon in column 20 (keys padded to 19); longer keys are followed by the colon directly. */
const KEY_WIDTH = 19;
const CRLF = '\r\n';

const setting = (key: string, value: string) => `${key.padEnd(KEY_WIDTH)}:${value}`;

function fileName(mac: string): string;
function fileName(mac?: string): string | undefined;
function fileName(mac?: string): string | undefined {
  // Fanvil's common files are named per model (f0X4.cfg ...), so there is no one MAC-less name to give.
  return mac === undefined ? undefined : `${requireMac(mac)}.cfg`;
}

export const fanvil: VendorCodec = {
  id: 'fanvil',
  label: 'Fanvil',
  hasMasterSwitch: true,
  formats: ['cfg'],
  keyFor,
  fileName,
  matchFileName(name) {
    const m = /^([0-9a-f]{12})\.cfg$/i.exec(name);
    return m ? { mac: m[1].toLowerCase() } : undefined;
  },
  write(config) {
    const lines = [HEADER.padEnd(HEADER_WIDTH), '', `<${SECTION}>`, setting(SWITCH_KEY, config.enabled ? '1' : '0')];
    for (const [slug, url] of urlsToWrite(config, supported)) lines.push(setting(keyFor(slug)!, url));
    lines.push('', FOOTER);
    return lines.join(CRLF) + CRLF;
  },
  read(text) {
    const lines = splitLines(text);
    const first = lines.findIndex((l) => l.trim() !== '');
    const firstLine = first >= 0 ? lines[first].trim() : '';
    const hasHeader = /^<<VOIP CONFIG FILE>>/i.test(firstLine);
    const hasSection = lines.some((l) => /^<[^<>]+ CONFIG MODULE>$/i.test(l.trim()));
    if (!hasHeader && !hasSection) {
      const hint = firstLine.startsWith('<?xml') ? ' (Fanvil\'s XML format is not supported)' : '';
      return notThisFormat(`not a Fanvil config file: no "<<VOIP CONFIG FILE>>" header and no "<... CONFIG MODULE>" section${hint}`);
    }
    const c = new ReadCollector();
    if (!hasHeader) c.notes.push('the first line is not "<<VOIP CONFIG FILE>>Version:..."; Fanvil phones refuse such a file');
    let section: string | undefined;
    let ended = false;
    let sawCti = false;
    lines.forEach((raw, index) => {
      const lineNo = index + 1;
      const line = raw.trim();
      if (line === '' || index === first && hasHeader) return;
      if (ended) {
        c.reject(lineNo, raw, `after ${FOOTER}: the phone stops reading there`);
        return;
      }
      if (line.toUpperCase() === FOOTER) {
        ended = true;
        return;
      }
      if (isCommentLine(line)) return;
      const sectionMatch = /^<([^<>]+)>$/.exec(line);
      if (sectionMatch) {
        section = keyForMatching(sectionMatch[1]);
        if (section === keyForMatching(SECTION)) sawCti = true;
        return;
      }
      const inCti = section === keyForMatching(SECTION);
      const colon = line.indexOf(':');
      if (colon <= 0) {
        // Other modules hold settings we neither know nor need; only lines where Action URL could be are judged.
        if (inCti || section === undefined) c.reject(lineNo, raw, 'malformed line: expected "Key :value"');
        else c.otherSettings++;
        return;
      }
      const key = keyForMatching(line.slice(0, colon));
      const value = line.slice(colon + 1);
      const slug = table.get(key);
      const isSwitch = key === keyForMatching(SWITCH_KEY);
      if (!inCti) {
        if (slug || isSwitch) c.reject(lineNo, raw, `Action URL setting outside <${SECTION}>; the phone does not read it there`);
        else c.otherSettings++;
        return;
      }
      if (slug) c.setUrl(slug, value, lineNo, raw);
      else if (isSwitch) {
        const v = value.trim();
        if (v === '1' || v === '0') c.setEnabled(v === '1', lineNo, raw);
        else c.reject(lineNo, raw, `"${SWITCH_KEY}" must be 1 or 0, not "${v}"`);
      } else if (/ ur[li]$/.test(key)) {
        // Fanvil spells one key "Onhook Uri"; the natural "Onhook Url" is silently ignored by the phone.
        const twin = table.get(key.replace(/ur([li])$/, (_m, ch: string) => `ur${ch === 'l' ? 'i' : 'l'}`));
        const written = line.slice(0, colon).trim();
        c.reject(lineNo, raw, twin
          ? `"${written}" is not a Fanvil key; the phone's key for ${twin} is "${keyFor(twin)}"`
          : `"${written}" looks like a Fanvil Action URL key but no catalog incident uses it`);
      } else c.otherSettings++;
    });
    if (!ended) c.notes.push(`no "${FOOTER}" line; Fanvil phones expect it as the last line`);
    if (!sawCti) {
      c.notes.push(`no <${SECTION}> section: the file sets nothing about Action URL`);
    }
    return c.result(supported, SWITCH_KEY);
  },
};
