/**
 * Checking what a scenario says about the far end: numbers, SIP addresses and display names. A display name
 * may hold anything a SIP header can (quotes, `<script>`, `&`, non-ASCII) but not a line break, which no SIP
 * header carries and which would otherwise split the phone's own request line.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface Party {
  user: string;
  /** '' when the address names no host (a plain number): the account's server is used. */
  host: string;
}

/** `2001`, `2001@pbx.example.com` or `sip:2001@pbx.example.com` (also `sips:`, `<sip:…>`). */
export function parseParty(text: string): Party | { error: string } {
  let t = text.trim();
  if (t.startsWith('<') && t.endsWith('>')) t = t.slice(1, -1);
  t = t.replace(/^sips?:/i, '');
  if (t === '') return { error: 'the address is empty' };
  if (/\s/.test(t) || CONTROL.test(t)) return { error: `"${text}" contains whitespace or a control character` };
  const at = t.lastIndexOf('@');
  const user = at === -1 ? t : t.slice(0, at);
  const host = at === -1 ? '' : t.slice(at + 1);
  if (user === '') return { error: `"${text}" has no user part` };
  if (at !== -1 && host === '') return { error: `"${text}" has no host after "@"` };
  return { user, host };
}

export function displayNameProblem(name: string): string | undefined {
  if (CONTROL.test(name)) return 'the display name contains a line break or control character, which SIP cannot carry';
  if (name.length > 256) return 'the display name is longer than 256 characters';
  return undefined;
}
