/** In-memory HttpRequest/HttpResponse for testing handlers without sockets. */
import type { HttpHandler, HttpRequest, HttpResponse, HttpStream } from '../../src/http/types.ts';

export interface Captured {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
  /** Header lookup, case-insensitive. */
  header(name: string): string | undefined;
}

export function request(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body: string | Buffer = '',
): HttpRequest {
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  let path = rawPath;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    // Keep the raw path, as the receiver does for invalid escapes.
  }
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return {
    method,
    rawTarget: Buffer.from(target, 'latin1'),
    path,
    query: new URLSearchParams(q >= 0 ? target.slice(q + 1) : ''),
    headers: { host: '127.0.0.1:8080', ...lower },
    httpVersion: 'HTTP/1.1',
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    remoteAddress: '127.0.0.1',
    receivedAt: performance.now(),
  };
}

export async function call(handler: HttpHandler, req: HttpRequest): Promise<Captured> {
  let captured: Captured | undefined;
  const res: HttpResponse = {
    sent: false,
    send(status, body = '', headers = {}) {
      if (captured) throw new Error('response sent twice');
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      captured = {
        status,
        headers,
        body: req.method === 'HEAD' ? Buffer.alloc(0) : bytes,
        text: req.method === 'HEAD' ? '' : bytes.toString('utf8'),
        header: (name) => Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1],
      };
      (this as { sent: boolean }).sent = true;
    },
    json(status, value, headers = {}) {
      this.send(status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    },
    stream(): HttpStream {
      throw new Error('the dashboard handler never streams');
    },
  };
  await handler(req, res);
  if (!captured) throw new Error('handler sent no response');
  return captured;
}
