/**
 * Snom XML settings files: `<settings><phone-settings><action_incoming_url perm="">…`. Snom phones have no
 * Action URL on/off switch, so "off" is written as empty settings.
 */
import { incidentBySlugOrUndefined } from '../catalog.ts';
import { entriesForSwitchlessPhone, keyTable, notThisFormat, ReadCollector, requireMac, supportedSlugs } from './common.ts';
import type { VendorCodec } from './types.ts';
import { childrenNamed, collectElementUrl, escapeXml, parseXml, reportXmlProblems } from './xml.ts';

const keyFor = (slug: string) => incidentBySlugOrUndefined(slug)?.keys.snom;
const supported = supportedSlugs(keyFor);
const table = keyTable(keyFor);

function fileName(mac: string): string;
function fileName(mac?: string): string | undefined;
function fileName(mac?: string): string | undefined {
  // Snom phones ask for the MAC in upper case (000413AABBCC.xml); their common files are named per model.
  return mac === undefined ? undefined : `${requireMac(mac).toUpperCase()}.xml`;
}

export const snom: VendorCodec = {
  id: 'snom',
  label: 'Snom',
  hasMasterSwitch: false,
  formats: ['xml'],
  keyFor,
  fileName,
  matchFileName(name) {
    const m = /^([0-9a-f]{12})\.xml$/i.exec(name);
    return m ? { mac: m[1].toLowerCase() } : undefined;
  },
  write(config) {
    const lines = ['<?xml version="1.0" encoding="utf-8"?>', '<settings>', '  <phone-settings>'];
    for (const [slug, url] of entriesForSwitchlessPhone(config, supported)) {
      const key = keyFor(slug)!;
      // perm="" leaves the setting editable on the phone, as the phone's own web page would.
      lines.push(`    <${key} perm="">${escapeXml(url)}</${key}>`);
    }
    lines.push('  </phone-settings>', '</settings>');
    return `${lines.join('\n')}\n`;
  },
  read(text) {
    const doc = parseXml(text);
    if (!doc.root) return notThisFormat('not a Snom settings file: there is no XML element in it');
    if (doc.root.name.toLowerCase() !== 'settings') {
      return notThisFormat(`not a Snom settings file: the root element is <${doc.root.name}>, expected <settings>`);
    }
    const c = new ReadCollector();
    reportXmlProblems(c, doc);
    const phoneSettings = childrenNamed(doc.root, 'phone-settings');
    for (const section of doc.root.children) {
      if (phoneSettings.includes(section)) continue;
      if (table.has(section.name.toLowerCase())) {
        c.reject(section.line, doc.lines[section.line - 1], `<${section.name}> is outside <phone-settings>; the phone does not read it there`);
      } else c.otherSettings++;
    }
    for (const el of phoneSettings.flatMap((s) => s.children)) {
      const name = el.name.toLowerCase();
      const slug = table.get(name);
      if (slug) collectElementUrl(c, doc, el, slug);
      else if (name.startsWith('action_')) {
        c.reject(el.line, doc.lines[el.line - 1], `<${el.name}> looks like a Snom action URL setting but no catalog incident uses it`);
      } else c.otherSettings++;
    }
    if (phoneSettings.length === 0) c.notes.push('no <phone-settings> section: the file sets nothing about Action URL');
    return c.result(supported);
  },
};
