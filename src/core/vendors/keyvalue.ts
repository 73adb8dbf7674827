/**
 * The `key = value` .cfg format Yealink and Akuvox share (Akuvox firmware descends from Yealink's):
 * one setting per line, `#` comments, keys `action_url.<slug>`. The two differ only in the header line,
 * the file names and Akuvox's on/off switch, which the small yealink.ts / akuvox.ts files supply.
 */
import { isCommentLine, notThisFormat, ReadCollector, splitLines, supportedSlugs, keyTable } from './common.ts';
import type { ActionUrlConfig, ReadResult } from './types.ts';

export interface KeyValueDialect {
  label: string;
  /** Catalog key of an incident for this vendor. */
  keyFor(slug: string): string | undefined;
  /** Required first line (Yealink `#!version:1.0.0.1`), if any. */
  header?: string;
  /** The Action URL on/off switch key (Akuvox), if the phone has one. */
  switchKey?: string;
}

/** Matching form of a key in this format: case and any whitespace inside the key do not matter. */
const squash = (key: string) => key.replace(/\s+/g, '').toLowerCase();

/** Keys that talk about Action URL but match no incident (`action_url.foo`, Akuvox door-station keys). */
const looksLikeActionUrl = (squashed: string) => /^action_?url\./.test(squashed) || squashed.includes('actionurl');

export function writeKeyValue(dialect: KeyValueDialect, config: ActionUrlConfig, entries: [string, string][]): string {
  const lines: string[] = [];
  if (dialect.header) lines.push(dialect.header);
  lines.push(`# ${dialect.label} Action URL settings, written by actionurl`);
  if (dialect.switchKey) lines.push(`${dialect.switchKey} = ${config.enabled ? 1 : 0}`);
  for (const [slug, url] of entries) lines.push(`${dialect.keyFor(slug)} = ${url}`);
  return `${lines.join('\n')}\n`;
}

export function readKeyValue(dialect: KeyValueDialect, text: string): ReadResult {
  const supported = supportedSlugs(dialect.keyFor);
  const table = new Map([...keyTable(dialect.keyFor)].map(([k, slug]) => [squash(k), slug]));
  const switchKey = dialect.switchKey ? squash(dialect.switchKey) : undefined;
  const lines = splitLines(text);
  const firstContent = lines.findIndex((l) => l.trim() !== '');
  if (firstContent >= 0 && lines[firstContent].trim().startsWith('<')) {
    return notThisFormat(`not a ${dialect.label} .cfg file: it starts with "<" (XML or a Fanvil file?), expected "key = value" lines`);
  }
  const c = new ReadCollector();
  let settings = 0;
  let nonComment = 0;
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || isCommentLine(line)) return;
    nonComment++;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      c.reject(lineNo, raw, 'malformed line: expected "key = value"');
      return;
    }
    settings++;
    const key = squash(line.slice(0, eq));
    const value = line.slice(eq + 1).trim();
    const slug = table.get(key);
    if (slug) {
      c.setUrl(slug, value, lineNo, raw);
    } else if (switchKey && key === switchKey) {
      if (value === '1' || value === '0') c.setEnabled(value === '1', lineNo, raw);
      else c.reject(lineNo, raw, `the on/off switch must be 1 or 0, not "${value}"`);
    } else if (looksLikeActionUrl(key)) {
      c.reject(lineNo, raw, `"${line.slice(0, eq).trim()}" looks like an Action URL setting but is not the ${dialect.label} key of any catalog incident`);
    } else {
      c.otherSettings++;
    }
  });
  if (nonComment > 0 && settings === 0) {
    return notThisFormat(`not a ${dialect.label} .cfg file: no "key = value" line in it`);
  }
  if (dialect.header && (firstContent < 0 || lines[firstContent].trim() !== dialect.header)) {
    c.notes.push(`the first line is not "${dialect.header}"; ${dialect.label} phones ignore a .cfg file without it`);
  }
  if (nonComment === 0) c.notes.push('the file holds no settings');
  return c.result(supported, dialect.switchKey);
}
