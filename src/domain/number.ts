/**
 * The other party's number, from `$remote` as phones fill it: a SIP URI (`sip:2001@pbx.example.com`,
 * `sips:…`, with `;user=phone` parameters or a port), a name-addr (`"Alice" <sip:2001@10.0.0.9>`), a `tel:`
 * URI, or the number alone. The number is the URI's user part, with the spaces and brackets people write in
 * numbers (`+49 30 1234-5`, `(030) 1234`) left out: what a phone would dial to call back. '' when what is left
 * is not a number a phone can dial (the rule `dial` applies): a caller's name-only URI, an empty remote.
 */
import { DIAL_NUMBER } from '../core/control/index.ts';

export function numberOf(remote: string): string {
  let s = remote.trim();
  const bracketed = /<([^>]*)>/.exec(s);
  if (bracketed) s = bracketed[1].trim();
  s = s.replace(/^(sips?|tel):/i, '');
  // URI parameters and headers are not part of the number.
  s = s.split(/[;?]/, 1)[0];
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  s = s.replace(/[\s()]/g, '');
  return DIAL_NUMBER.test(s) ? s : '';
}
