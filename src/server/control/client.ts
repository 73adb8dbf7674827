/**
 * Sends one control request to a phone and reads its answer. One attempt only: a phone that refused or
 * could not be reached is reported, never retried (phones lock the admin account after wrong passwords).
 * The credentials travel in the Authorization header or the passcode parameter and nowhere else.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export interface PhoneReply {
  status: number;
  body: string;
  /** The receiver's own address on the connection: the one the phone's allowlist must hold. */
  localAddress?: string;
  /** Each `WWW-Authenticate` header of the answer (a 401's challenges). */
  challenges: string[];
}

export interface SendOptions {
  /** Full URL with the query; may hold a passcode, so it must never be logged. */
  url: URL;
  /** The whole Authorization header value (Basic or Digest), if any. */
  authorization?: string;
  timeoutMs: number;
  /** Resolves the host and refuses addresses that may not be targets (ControlNetworks.guardedLookup). */
  lookup?: LookupFunction;
}

/** Nothing was sent: the target may not be controlled (`error` is the reason). */
export interface Refused {
  error: string;
  refused: true;
}

const MAX_BODY = 16 * 1024;

/** The Basic Authorization header value. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export function sendToPhone(opts: SendOptions): Promise<PhoneReply | { error: string } | Refused> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'User-Agent': 'actionurl-control', Connection: 'close' };
    if (opts.authorization !== undefined) headers.Authorization = opts.authorization;
    const lib = opts.url.protocol === 'https:' ? https : http;
    let done = false;
    const finish = (v: PhoneReply | { error: string } | Refused) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    };
    const req = lib.request(opts.url, { method: 'GET', headers, agent: false, ...(opts.lookup ? { lookup: opts.lookup } : {}), ...(opts.url.protocol === 'https:' ? { rejectUnauthorized: false } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      res.on('end', () => finish({
        status: res.statusCode ?? 0,
        body: Buffer.concat(chunks).toString('utf8'),
        localAddress: req.socket?.localAddress?.replace(/^::ffff:/, ''),
        challenges: res.headersDistinct['www-authenticate'] ?? [],
      }));
      res.on('error', (err) => finish({ error: err.message }));
    });
    const timer = setTimeout(() => {
      finish({ error: `no answer within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONTROLREFUSED' ? { error: err.message, refused: true } : { error: err.code ?? err.message }));
    req.end();
  });
}
