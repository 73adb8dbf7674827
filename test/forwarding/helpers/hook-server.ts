/**
 * A real local webhook receiver for tests: records every request (headers, body, arrival time) and answers
 * as the test says: a status, a delay, a Retry-After, a redirect, or no answer at all.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  at: number;
}

export type Behaviour =
  | { status: number; headers?: Record<string, string>; delayMs?: number; /** The answer's body (default `ok`). */ body?: string }
  /** Never answers (the connection stays open until the server closes). */
  | { hang: true };

export interface HookServer {
  url: string;
  received: Received[];
  /** Decides each answer; default 200. */
  behave: (r: Received, index: number) => Behaviour;
  /** Resolves once `n` requests arrived (or rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<Received[]>;
  /** Resolves with the first request from index `from` on that matches (or rejects after `ms`). */
  waitForMatch(match: (r: Received) => boolean, from?: number, ms?: number): Promise<Received>;
  close(): Promise<void>;
}

export async function startHookServer(behave: HookServer['behave'] = () => ({ status: 200 })): Promise<HookServer> {
  const received: Received[] = [];
  const waiters: { n: number; resolve(): void }[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Received['json'];
      try {
        json = JSON.parse(body) as Received['json'];
      } catch {
        json = { type: '(not JSON)', timestamp: '', data: {} };
      }
      const r: Received = { headers: req.headers, body, json, at: Date.now() };
      const index = received.length;
      received.push(r);
      for (const w of [...waiters]) {
        if (received.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      const b = hook.behave(r, index);
      if ('hang' in b) return;
      const answer = () => {
        res.writeHead(b.status, b.headers);
        res.end(b.body ?? 'ok');
      };
      if (b.delayMs) setTimeout(answer, b.delayMs);
      else answer();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const hook: HookServer = {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    behave,
    waitFor(n, ms = 10_000) {
      if (received.length >= n) return Promise.resolve(received);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`expected ${n} webhook requests, got ${received.length}`)), ms);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve(received);
          },
        });
      });
    },
    async waitForMatch(match, from = 0, ms = 10_000) {
      const end = Date.now() + ms;
      for (;;) {
        const found = received.slice(from).find(match);
        if (found) return found;
        if (Date.now() > end) throw new Error(`no matching webhook request among ${received.length - from}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
  return hook;
}

/**
 * Standard Webhooks verification written from the specification, independently of the receiver's signer:
 * HMAC-SHA256 keyed with the base64 part of whsec_…, over "id.timestamp.body", base64, compared against each
 * "v1,<sig>" in the space-separated header.
 */
export function verifyStandardWebhook(secret: string, headers: http.IncomingHttpHeaders, body: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const id = String(headers['webhook-id']);
  const ts = String(headers['webhook-timestamp']);
  const expected = crypto.createHmac('sha256', key).update(`${id}.${ts}.${body}`, 'utf8').digest();
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .some((part) => {
      const [version, sig] = part.split(',');
      if (version !== 'v1' || !sig) return false;
      const given = Buffer.from(sig, 'base64');
      return given.length === expected.length && crypto.timingSafeEqual(given, expected);
    });
}

/** GitHub's form: sha256=<hex HMAC of the body>, keyed with the secret as written. */
export function verifyGithubSignature(secret: string, headers: http.IncomingHttpHeaders, body: string): boolean {
  const expected = 'sha256=' + crypto.createHmac('sha256', secret).update(body, 'utf8').digest('hex');
  return headers['x-hub-signature-256'] === expected;
}

/** A random secret in the whsec_ form. */
export function newSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}
