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

/** A receiver's ingest tokens: one shared by every phone (`--token`) and/or the secret per-phone tokens derive from. */
export interface IngestTokens {
  readonly token?: string;
  readonly tokenSecret?: string;
}

/**
 * The token a phone sends: its own when per-phone tokens are on and its MAC is known, else the shared one
 * (undefined when there is none). The receiver's provisioning, the dashboard and `config generate` all ask this.
 */
export function ingestTokenFor(tokens: IngestTokens, mac?: string): string | undefined {
  if (tokens.tokenSecret && mac) return phoneToken(tokens.tokenSecret, mac);
  return tokens.token || undefined;
}
