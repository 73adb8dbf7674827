/**
 * Phone credentials at rest: sealed with AES-256-GCM under a 32-byte key that is kept outside the database
 * (a key file beside it with 0600 permissions, or `--control-key` / ACTIONURL_CONTROL_KEY). A copied
 * database file holds only ciphertext; without the key it gives nothing away, and a sealed value moved to
 * another phone's row does not open (the MAC is authenticated with it).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PhoneCredentials {
  username: string;
  password: string;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`a control key has ${KEY_BYTES} bytes`);
  }

  seal(mac: string, creds: PhoneCredentials): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(mac, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify({ u: creds.username, p: creds.password }), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  /** The credentials, or undefined when the value was sealed under another key or for another phone. */
  open(mac: string, sealed: Buffer): PhoneCredentials | undefined {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(mac, 'utf8'));
      decipher.setAuthTag(sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      const v = JSON.parse(text) as { u?: unknown; p?: unknown };
      return typeof v.u === 'string' && typeof v.p === 'string' ? { username: v.u, password: v.p } : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A key given as 64 hex digits or base64 of 32 bytes; undefined when it is neither. */
export function parseKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(t)) {
    const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === KEY_BYTES) return b;
  }
  return undefined;
}

/** Where the key file goes by default: beside the SQLite file; for `:memory:` and PostgreSQL, none. */
export function defaultKeyFile(db: string | undefined): string | undefined {
  if (db === undefined || db === ':memory:' || db === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(db)) return undefined;
  return join(dirname(db), 'control.key');
}

export class ControlKeyError extends Error {}

/**
 * The key: given (`--control-key`), else read from the key file, created (0600) with a random key when
 * missing, else (no file to keep it in) a random key for this process only: credentials set then do not
 * survive a restart, which the caller says at start-up.
 */
export function loadControlKey(opts: { key?: string; keyFile?: string }): { key: Buffer; source: 'given' | 'file' | 'created' | 'ephemeral' } {
  if (opts.key !== undefined && opts.key !== '') {
    const key = parseKey(opts.key);
    if (!key) throw new ControlKeyError('--control-key: expected 32 bytes as 64 hex digits or base64');
    return { key, source: 'given' };
  }
  if (!opts.keyFile) return { key: randomBytes(KEY_BYTES), source: 'ephemeral' };
  const file = opts.keyFile;
  if (existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ControlKeyError(`cannot read the control key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const key = parseKey(text);
    if (!key) throw new ControlKeyError(`${file} is not a control key (64 hex digits)`);
    // Readable by others, it protects nothing: tighten it rather than refuse to start.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { key, source: 'file' };
  }
  const key = randomBytes(KEY_BYTES);
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new ControlKeyError(`cannot create the control key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { key, source: 'created' };
}
