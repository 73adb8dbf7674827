/**
 * From a parsed request to the HttpRequest handlers see: the raw target stays bytes (the ingest decoder
 * reads those); `path` and `query` are decoded leniently for routing and for the API's parameters.
 */
import { percentDecodeInto } from '../core/bytes.ts';
import type { HttpRequest } from './types.ts';
import type { ParsedRequest } from './parser.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 when the bytes are valid UTF-8, else Latin-1: text from any byte sequence, nothing dropped. */
export function bytesToText(bytes: Uint8Array): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] > 0x7f) {
      try {
        return utf8.decode(bytes);
      } catch {
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
      }
    }
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}


/** Percent-decodes where the escape is valid; invalid escapes stay as typed. */
export function percentDecode(bytes: Uint8Array): string {
  if (!bytes.includes(0x25)) return bytesToText(bytes);
  const out = Buffer.allocUnsafe(bytes.length);
  const n = percentDecodeInto(bytes, 0, bytes.length, out);
  return bytesToText(out.subarray(0, n));
}

/** Path and query bytes of a target, accepting the absolute form (`http://host/path?q`). */
export function splitTarget(target: Buffer): { path: Buffer; query: Buffer } {
  let start = 0;
  const scheme = target.indexOf('://');
  if (scheme > 0 && scheme < 8 && target[0] !== 0x2f) {
    const slash = target.indexOf(0x2f, scheme + 3);
    start = slash === -1 ? target.length : slash;
  }
  let end = target.indexOf(0x23, start); // a fragment is not sent by browsers, but a hand-made request may have one
  if (end === -1) end = target.length;
  const q = target.indexOf(0x3f, start);
  if (q === -1 || q > end) return { path: target.subarray(start, end), query: target.subarray(end, end) };
  return { path: target.subarray(start, q), query: target.subarray(q + 1, end) };
}

export interface SocketInfo {
  remoteAddress: string;
  localAddress: string;
  localPort: number;
  secure: boolean;
}

/** A request as handlers see it; the query is parsed on first use (the ingest path reads the raw target). */
class Request implements HttpRequest {
  readonly method: string;
  readonly rawTarget: Buffer;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly httpVersion: string;
  readonly body: Buffer;
  readonly remoteAddress: string;
  readonly receivedAt: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly secure: boolean;
  private queryBytes: Buffer;
  private params: URLSearchParams | undefined;

  constructor(parsed: ParsedRequest, socket: SocketInfo, receivedAt: number) {
    const { path, query } = splitTarget(parsed.rawTarget);
    this.method = parsed.method;
    this.rawTarget = parsed.rawTarget;
    this.path = path.length === 0 ? '/' : percentDecode(path);
    this.headers = parsed.headers;
    this.httpVersion = parsed.httpVersion;
    this.body = parsed.body;
    this.remoteAddress = socket.remoteAddress;
    this.receivedAt = receivedAt;
    this.localAddress = socket.localAddress;
    this.localPort = socket.localPort;
    this.secure = socket.secure;
    this.queryBytes = query;
  }

  get query(): URLSearchParams {
    this.params ??= new URLSearchParams(bytesToText(this.queryBytes));
    return this.params;
  }
}

export function buildRequest(parsed: ParsedRequest, socket: SocketInfo, receivedAt: number): HttpRequest {
  return new Request(parsed, socket, receivedAt);
}

/** `::ffff:10.0.0.5` -> `10.0.0.5`. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
