/**
 * Credentials out of everything quoted from a phone's answer. A phone (or whatever answers at its address)
 * may echo the request back: a 404 page that repeats the URL holds the Grandstream `passcode`, a debug page
 * the Authorization header. A command's `reason` is stored, logged, published on MQTT and shown, so the
 * answer is scrubbed of every credential that went out with the request before anything reads it (and
 * before it is shortened, which could cut a secret in half and leave a piece that no longer matches). Only
 * the phone's words are scrubbed, not the receiver's own around them: a password `admin` must not turn "its
 * admin account" in a reason into "its *** account".
 *
 * Forms blanked: as typed, percent-encoded however (`%73ecret`, `+` for spaces), as the control URL writes
 * it, HTML-escaped, JSON-escaped, the Basic `user:password` in base64, every Authorization header sent
 * whole, and a Digest answer's `response`.
 */
import { targetText } from '../../core/control/index.ts';
import { redactToken, secretForms } from '../redact.ts';
import type { PhoneCredentials } from './secrets.ts';

const MASK = '***';

function htmlEscape(text: string, apos: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, apos);
}

/** The spellings of one value a phone's answer may hold. */
function spellings(value: string): string[] {
  const url = encodeURIComponent(value);
  const inTarget = targetText({ path: '', params: [['p', value]] }).slice('?p='.length);
  const json = JSON.stringify(value).slice(1, -1);
  const base = [value, url, url.replace(/%20/g, '+'), inTarget, json];
  return [...base, ...base.flatMap((v) => [htmlEscape(v, '&#39;'), htmlEscape(v, '&#x27;')])];
}

/** What a command sent that must not come back out: its credentials and the Authorization headers. */
export class SentSecrets {
  private readonly plain = new Set<string>();
  private readonly raw: string[] = [];

  constructor(credentials?: PhoneCredentials) {
    if (!credentials) return;
    const { username, password } = credentials;
    if (password !== '') this.add(password);
    if (username !== '') this.add(username);
    if (password !== '' || username !== '') {
      const basic = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
      this.plain.add(basic);
      // Base64 without its padding, as a truncating echo may show it.
      this.plain.add(basic.replace(/=+$/, ''));
    }
  }

  private add(value: string): void {
    this.raw.push(value);
    for (const s of spellings(value)) if (s !== '') this.plain.add(s);
  }

  /** An Authorization header value as sent (Basic or Digest). */
  addAuthorization(value: string): void {
    this.plain.add(value);
    const response = /\bresponse="?([0-9a-fA-F]{16,})"?/.exec(value);
    if (response) this.plain.add(response[1]);
    const basic = /^Basic\s+(\S+)$/.exec(value);
    if (basic) this.plain.add(basic[1]);
  }

  /** `text` with every form of every secret replaced by `***`. */
  scrub(text: string): string {
    if (text === '' || this.plain.size === 0) return text;
    let out = text;
    // Longest first: a form that holds another (an Authorization header holds the base64) goes whole.
    for (const s of [...this.plain].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join(MASK);
    }
    // Any mixture of percent-escapes (`s%33cret`), as the ingest redaction reads them.
    const forms = secretForms(this.raw);
    // (It blanks `token=` values too: in a phone's answer those are echoes of something as well.)
    if (forms.length > 0) out = redactToken(Buffer.from(out, 'utf8'), forms).toString('utf8');
    return out;
  }
}
