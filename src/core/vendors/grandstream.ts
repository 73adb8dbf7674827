/**
 * Grandstream provisioning XML, `cfg<mac>.xml`: config version 1 names settings by P-code (`<P8310>`),
 * version 2 by alias (`<item name="ons.actionUrl.incomingCall">`). The writer makes either; the reader
 * takes both, even mixed. No on/off switch, so "off" is written as empty settings.
 */
import { incidentBySlugOrUndefined } from '../catalog.ts';
import { normalizeMac } from '../mac.ts';
import { entriesForSwitchlessPhone, keyTable, notThisFormat, ReadCollector, requireMac, supportedSlugs } from './common.ts';
import type { VendorCodec } from './types.ts';
import { childrenNamed, collectElementUrl, escapeXml, parseXml, reportXmlProblems, type XmlElement } from './xml.ts';

const FORMATS = ['v1', 'v2'] as const;
const pcodeFor = (slug: string) => incidentBySlugOrUndefined(slug)?.keys.grandstream;
const aliasFor = (slug: string) => incidentBySlugOrUndefined(slug)?.keys.grandstreamAlias;
// Both tables cover the same incidents; the P-code table decides what the vendor supports.
const supported = supportedSlugs(pcodeFor);
const byPcode = keyTable(pcodeFor);
const byAlias = keyTable(aliasFor);

/** The P-code block Grandstream uses for Action URL: a code here that no incident uses is worth reporting. */
const ACTION_URL_PCODE = /^p83[0-2]\d$/;

function fileName(mac: string): string;
function fileName(mac?: string): string | undefined;
function fileName(mac?: string): string | undefined {
  // cfg.xml is read by every phone before its own cfg<mac>.xml.
  return mac === undefined ? 'cfg.xml' : `cfg${requireMac(mac)}.xml`;
}

function checkFormat(format: string | undefined): 'v1' | 'v2' {
  if (format === undefined) return 'v1';
  if ((FORMATS as readonly string[]).includes(format)) return format as 'v1' | 'v2';
  throw new Error(`unknown Grandstream format "${format}" (expected v1 or v2)`);
}

export const grandstream: VendorCodec = {
  id: 'grandstream',
  label: 'Grandstream',
  hasMasterSwitch: false,
  formats: FORMATS,
  keyFor: (slug, format) => (checkFormat(format) === 'v2' ? aliasFor(slug) : pcodeFor(slug)),
  fileName,
  caveats: (format) => (checkFormat(format) === 'v2'
    ? ['Grandstream v2 aliases follow the pattern of the one a vendor source confirms (incoming call); the others are unconfirmed, v1 P-codes are the safer choice']
    : []),
  matchFileName(name) {
    if (/^cfg\.xml$/i.test(name)) return {};
    const m = /^cfg([0-9a-f]{12})\.xml$/i.exec(name);
    return m ? { mac: m[1].toLowerCase() } : undefined;
  },
  write(config, opts = {}) {
    const v2 = checkFormat(opts.format) === 'v2';
    const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<gs_provision version="1">'];
    if (opts.mac !== undefined) lines.push(`  <mac>${requireMac(opts.mac)}</mac>`);
    lines.push(`  <config version="${v2 ? 2 : 1}">`);
    for (const [slug, url] of entriesForSwitchlessPhone(config, supported)) {
      const value = escapeXml(url);
      if (v2) lines.push(`    <item name="${escapeXml(aliasFor(slug)!)}">${value}</item>`);
      else lines.push(`    <${pcodeFor(slug)}>${value}</${pcodeFor(slug)}>`);
    }
    lines.push('  </config>', '</gs_provision>');
    return `${lines.join('\n')}\n`;
  },
  read(text) {
    const doc = parseXml(text);
    if (!doc.root) return notThisFormat('not a Grandstream provisioning file: there is no XML element in it');
    if (doc.root.name.toLowerCase() !== 'gs_provision') {
      return notThisFormat(`not a Grandstream provisioning file: the root element is <${doc.root.name}>, expected <gs_provision>`);
    }
    const c = new ReadCollector();
    reportXmlProblems(c, doc);
    const counts = { v1: 0, v2: 0 };
    const source = (el: XmlElement) => doc.lines[el.line - 1] ?? '';
    const configs = childrenNamed(doc.root, 'config');
    let mac: string | undefined;
    for (const el of doc.root.children) {
      if (el.name.toLowerCase() === 'mac') {
        mac = normalizeMac(el.text);
        if (!mac) c.reject(el.line, source(el), `<mac> holds "${el.text.trim()}", which is not a MAC address`);
      } else if (!configs.includes(el)) c.otherSettings++;
    }
    for (const config of configs) {
      for (const el of config.children) {
        const isItem = el.name.toLowerCase() === 'item';
        const key = (isItem ? el.attrs.name ?? '' : el.name).trim().toLowerCase();
        if (isItem && key === '') {
          c.reject(el.line, source(el), '<item> without a name attribute');
          continue;
        }
        const slug = byPcode.get(key) ?? byAlias.get(key);
        if (slug) {
          counts[byAlias.has(key) ? 'v2' : 'v1']++;
          collectElementUrl(c, doc, el, slug);
        } else if (ACTION_URL_PCODE.test(key) || key.startsWith('ons.actionurl.')) {
          c.reject(el.line, source(el), `"${isItem ? el.attrs.name : el.name}" looks like a Grandstream Action URL setting but no catalog incident uses it`);
        } else c.otherSettings++;
      }
    }
    if (configs.length === 0) c.notes.push('no <config> element: the file sets nothing');
    const declared = configs.map((el) => el.attrs.version).find((v) => v === '1' || v === '2');
    const format = counts.v2 > counts.v1 ? 'v2' : counts.v1 > 0 ? 'v1' : declared === '2' ? 'v2' : 'v1';
    if (declared && `v${declared}` !== format) {
      c.notes.push(`<config version="${declared}"> but the settings are written as in ${format}`);
    }
    return { ...c.result(supported), format, ...(mac ? { mac } : {}) };
  },
};

