/**
 * Per-phone ingest tokens: each phone's token is derived from one secret (`--token-secret`) and the phone's
 * MAC, so there is no table to keep, and a token read from one phone's config file only lets its holder
 * send events as that phone. The receiver checks tokens with this, and config generation writes them.
 *
 *   token = first 20 characters of base64url(HMAC-SHA256(secret, mac as 12 lowercase hex digits))
 *
 * The same with openssl, for a provisioning system of your own:
 *   printf %s 001565aabbcc | openssl dgst -sha256 -hmac "$SECRET" -binary | base64 | tr '+/' '-_' | cut -c1-20
 */
import { createHmac } from 'node:crypto';
import { normalizeMac } from './mac.ts';

/** Characters of a derived token: 120 bits, URL-safe (A-Z a-z 0-9 - _), no `$` a phone could mistake. */
export const PHONE_TOKEN_LENGTH = 20;

/**
 * The ingest token of the phone with this MAC (any spelling: `00:15:65:AA:BB:CC`, `001565aabbcc`, …).
 * Throws a one-line Error for an empty secret or a text that is not a MAC address.
 */
export function phoneToken(secret: string, mac: string): string {
  if (secret === '') throw new Error('the token secret must not be empty');
  const normalized = normalizeMac(mac);
  if (!normalized) throw new Error(`"${mac}" is not a MAC address; expected 12 hex digits such as 00:15:65:AA:BB:CC`);
  return createHmac('sha256', secret).update(normalized).digest('base64url').slice(0, PHONE_TOKEN_LENGTH);
}
