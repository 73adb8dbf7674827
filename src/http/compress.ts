/**
 * Compressed answers for clients that accept them (`Accept-Encoding: br` or `gzip`): JSON and other text
 * of at least MIN_COMPRESS_BYTES. The compression runs on libuv's thread pool (zlib's async calls), so a
 * large answer never holds the event loop. Tiny answers (ingest's `OK`), bodies that are already encoded
 * (the dashboard's pre-gzipped assets), and streams (the SSE event stream) go out as they are.
 */
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { HttpHandler, HttpResponse } from './types.ts';

/** Below this, compressing saves less than the headers and the work cost. */
export const MIN_COMPRESS_BYTES = 1024;

type Encoding = 'br' | 'gzip';

/** The encoding to use for an `Accept-Encoding` header: brotli if accepted, else gzip, else none. */
export function pickEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  let gz = false;
  for (const part of header.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find(Boolean);
    if (q && Number(q[1]) === 0) continue;
    if (name === 'br') return 'br';
    if (name === 'gzip' || name === '*') gz = true;
  }
  return gz ? 'gzip' : undefined;
}

/** Brotli at quality 5: most of the gain of the default 11 at a small part of its CPU. */
const BROTLI_OPTIONS = { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } };

function compress(encoding: Encoding, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (encoding === 'br') brotliCompress(body, BROTLI_OPTIONS, done);
    else gzip(body, done);
  });
}

function header(headers: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function compressible(contentType: string | undefined): boolean {
  return contentType === undefined || /^(text\/|application\/(json|javascript|xml)|image\/svg)/i.test(contentType);
}

/** Wraps a handler so its whole answers are compressed when the client accepts it. */
export function withCompression(handler: HttpHandler): HttpHandler {
  return (req, res) => {
    const encoding = req.method === 'HEAD' ? undefined : pickEncoding(req.headers['accept-encoding']);
    if (encoding === undefined) return handler(req, res);
    let pending: Promise<void> | undefined;
    const send = (status: number, body: string | Buffer = '', headers: Record<string, string> = {}): void => {
      if (pending || res.sent) return;
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const skip = bytes.length < MIN_COMPRESS_BYTES || status === 204 || status === 304
        || header(headers, 'content-encoding') !== undefined || !compressible(header(headers, 'content-type'));
      if (skip) return res.send(status, bytes, headers);
      const vary = header(headers, 'vary');
      pending = compress(encoding, bytes).then(
        (packed) => res.send(status, packed, { ...headers, 'Content-Encoding': encoding, Vary: vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding' }),
        () => res.send(status, bytes, headers),
      );
    };
    const wrapped: HttpResponse = {
      get sent() {
        return pending !== undefined || res.sent;
      },
      send,
      json: (status, value, headers = {}) => send(status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers }),
      stream: (status, headers) => res.stream(status, headers),
    };
    const result = handler(req, wrapped);
    if (result && typeof (result as Promise<void>).then === 'function') return (result as Promise<void>).then(() => pending);
    return pending;
  };
}
