/**
 * Webhook signatures, the Standard Webhooks way: `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `"<webhook-id>.<webhook-timestamp>.<body>"`, keyed with the base64-decoded part of a `whsec_…` secret.
 * Tools that only know GitHub's form get `x-hub-signature-256: sha256=<hex HMAC-SHA256 of the body>` too,
 * keyed with the secret exactly as written (`whsec_…`), since that is the string one pastes into such a tool.
 * Both keys are made into KeyObjects once, when the secret is read: every request is signed twice, and a
 * key given as a string or Buffer is encoded and copied again for each signature.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export interface WebhookSecret {
  /** As configured: `whsec_<base64>`. */
  readonly text: string;
  /** The HMAC key: the decoded base64 part. */
  readonly key: Buffer;
  /** `key`, prepared for `webhook-signature`. */
  readonly standardKey: KeyObject;
  /** `text`, prepared for `x-hub-signature-256`. */
  readonly githubKey: KeyObject;
}

/** Parses `whsec_<base64 of 24–64 bytes>`; throws an Error with a one-line reason. */
export function parseSecret(text: string): WebhookSecret {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(text.trim());
  if (!m) throw new Error('a webhook secret looks like whsec_<base64>, e.g. whsec_' + 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const key = Buffer.from(m[1], 'base64');
  if (key.length < 24 || key.length > 64) {
    throw new Error(`a webhook secret holds 24 to 64 bytes after whsec_ (this one ${key.length})`);
  }
  const trimmed = text.trim();
  return { text: trimmed, key, standardKey: createSecretKey(key), githubKey: createSecretKey(Buffer.from(trimmed)) };
}

/** The value of `webhook-signature` for one attempt. */
export function standardSignature(secret: WebhookSecret, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret.standardKey).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The value of `x-hub-signature-256`. */
export function githubSignature(secret: WebhookSecret, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret.githubKey).update(body).digest('hex')}`;
}

/**
 * Every header a signed delivery carries besides content-type. `body` as the bytes that are sent: both
 * signatures hash them without encoding the text again.
 */
export function signatureHeaders(secret: WebhookSecret | undefined, id: string, timestamp: number, body: string | Buffer): Record<string, string> {
  const headers: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
  if (secret) {
    headers['webhook-signature'] = standardSignature(secret, id, timestamp, body);
    headers['x-hub-signature-256'] = githubSignature(secret, body);
  }
  return headers;
}
