/**
 * Helpers every codec shares: MAC checks for writers, line splitting, key matching, and the bookkeeping that turns
 * what a reader found into a ReadResult.
 */
import { INCIDENTS } from '../catalog.ts';
import { normalizeMac } from '../mac.ts';
import type { ActionUrlConfig, ReadResult, UnusedLine } from './types.ts';

/** Like normalizeMac, for writers: a MAC the caller passed must be a MAC. */
export function requireMac(input: string): string {
  const mac = normalizeMac(input);
  if (!mac) throw new Error(`"${input}" is not a MAC address (expected 12 hex digits, e.g. 00:15:65:AA:BB:CC)`);
  return mac;
}

/** Text without a leading byte-order mark, split into lines on CRLF, LF or a lone CR. */
export function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
}

/** A line that is only a comment in line-based formats (`#`, `;`, `//`). */
export function isCommentLine(trimmed: string): boolean {
  return trimmed.startsWith('#') || trimmed.startsWith(';') || trimmed.startsWith('//');
}

/** Key spelling used for matching: case and runs of whitespace do not matter (`Reg  On URL` = `Reg On Url`). */
export function keyForMatching(key: string): string {
  return key.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Display form of a source line in reports: trimmed and cut, so a megabyte of garbage stays one line. */
export function reportText(line: string): string {
  const t = line.trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

/**
 * Writers refuse URLs a phone could not hold: a line break or other control character would end the setting
 * early and turn the rest into a line of its own.
 */
export function assertWritableUrl(slug: string, url: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(url)) {
    throw new Error(`the URL for ${slug} contains a line break or control character; no phone config can hold it`);
  }
}

/** Reader counterpart of assertWritableUrl: the reason a value cannot be used as a URL, if any. */
export function unusableUrlReason(url: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(url)) return 'the URL contains a line break or control character';
  return undefined;
}

/** Slugs the vendor has a key for, in catalog order. */
export function supportedSlugs(keyFor: (slug: string) => string | undefined): string[] {
  return INCIDENTS.filter((i) => keyFor(i.slug) !== undefined).map((i) => i.slug);
}

/** Vendor key (as matched) -> slug, for one key table. */
export function keyTable(keyFor: (slug: string) => string | undefined): Map<string, string> {
  const table = new Map<string, string>();
  for (const i of INCIDENTS) {
    const key = keyFor(i.slug);
    if (key !== undefined) table.set(keyForMatching(key), i.slug);
  }
  return table;
}

/**
 * Collects what a reader finds. Later settings of the same incident win, as on the phone, and the earlier
 * one is reported so that nothing is dropped without a word.
 */
export class ReadCollector {
  readonly unused: UnusedLine[] = [];
  readonly notes: string[] = [];
  otherSettings = 0;
  enabled: boolean | undefined;
  private enabledLine: { line: number; text: string } | undefined;
  private readonly found = new Map<string, { url: string; line: number; text: string }>();

  reject(line: number, text: string, reason: string): void {
    this.unused.push({ line, text: reportText(text), reason });
  }

  /** An incident's value; an empty value means "no URL" (it clears the setting on the phone). */
  setUrl(slug: string, rawUrl: string, line: number, text: string): void {
    const url = rawUrl.trim();
    const bad = unusableUrlReason(url);
    if (bad) {
      this.reject(line, text, bad);
      return;
    }
    const previous = this.found.get(slug);
    if (previous) this.reject(previous.line, previous.text, `${slug} is set again on line ${line}; the later setting wins`);
    this.found.set(slug, { url, line, text });
  }

  setEnabled(value: boolean, line: number, text: string): void {
    if (this.enabledLine) {
      this.reject(this.enabledLine.line, this.enabledLine.text, `the on/off switch is set again on line ${line}; the later setting wins`);
    }
    this.enabled = value;
    this.enabledLine = { line, text };
  }

  /**
   * The ReadResult. Without a switch in the file, `enabled` is true when any URL is set: a phone with URLs
   * and no switch (Yealink, Snom, Grandstream, or a partial Akuvox file) sends requests.
   */
  result(supported: readonly string[], switchName?: string): ReadResult {
    const urls: Record<string, string> = {};
    for (const i of INCIDENTS) {
      const hit = this.found.get(i.slug);
      if (hit && hit.url !== '') urls[i.slug] = hit.url;
    }
    let enabled = this.enabled;
    if (enabled === undefined) {
      enabled = Object.keys(urls).length > 0;
      if (switchName) this.notes.push(`no "${switchName}" setting; taken as ${enabled ? 'on' : 'off'} because ${enabled ? 'URLs are' : 'no URL is'} set`);
    }
    this.unused.sort((a, b) => a.line - b.line);
    const config: ActionUrlConfig = { enabled, urls };
    return {
      config,
      unused: this.unused,
      missing: supported.filter((s) => !(s in urls)),
      notes: this.notes,
      otherSettings: this.otherSettings,
    };
  }
}

/** The result of a reader given text that is not its format at all. */
export function notThisFormat(error: string): ReadResult {
  return { config: { enabled: false, urls: {} }, unused: [], missing: [], notes: [], otherSettings: 0, error };
}

/** Incidents to write, in catalog order: every supported one with a URL in the config. */
export function urlsToWrite(config: ActionUrlConfig, supported: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const slug of supported) {
    const url = config.urls[slug];
    if (url === undefined || url === '') continue;
    assertWritableUrl(slug, url);
    out.push([slug, url]);
  }
  return out;
}

/**
 * For phones without an on/off switch, "off" can only be said by clearing every URL: each supported incident
 * is written with an empty value, which the phone stores as "no URL". Otherwise the config's URLs.
 */
export function entriesForSwitchlessPhone(config: ActionUrlConfig, supported: readonly string[]): [string, string][] {
  if (config.enabled) return urlsToWrite(config, supported);
  return supported.map((slug) => [slug, '']);
}
