/**
 * The HttpResponse a handler answers through. A connection may carry several pipelined requests whose
 * handlers finish in any order; each response is a slot that buffers its bytes until every earlier
 * response on the connection went out, so answers leave in request order.
 */
import { STATUS_CODES } from 'node:http';
import type { HttpResponse, HttpStream } from './types.ts';

/** What a slot needs from its connection. */
export interface SlotOwner {
  /** Queue bytes for this slot (written now if it is the oldest open slot). Returns socket backpressure. */
  output(slot: ResponseSlot, data: Buffer): boolean;
  /** The slot's answer is complete. */
  finish(slot: ResponseSlot): void;
  /** True when the connection will close after the current answers (server shutting down, error). */
  readonly closing: boolean;
  /** The socket went away. */
  readonly destroyed: boolean;
  /** Bytes of answers not yet taken by the client. */
  readonly bufferedOutput: number;
  /** Closes the socket at once, unsent bytes and all. */
  destroy(): void;
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Whole answers by headers object, then status, version and body (only keep-alive answers are kept). */
const memo = new WeakMap<Record<string, string>, Map<string, { second: number; bytes: Buffer }>>();
function memoFor(headers: Record<string, string>): Map<string, { second: number; bytes: Buffer }> {
  let m = memo.get(headers);
  if (!m) {
    m = new Map();
    memo.set(headers, m);
  }
  // Bodies vary (error texts name values): keep the memo small.
  if (m.size > 32) m.clear();
  return m;
}

let dateCache = '';
let dateCacheSecond = -1;
/** The Date header value, computed once per second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateCacheSecond) {
    dateCacheSecond = second;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

/** Header values come from handlers, sometimes from phone input: a CR or LF would split the response. */
function headerValue(value: string): string {
  return /[\r\n]/.test(value) ? value.replace(/[\r\n]+/g, ' ') : value;
}

export class ResponseSlot implements HttpResponse {
  sent = false;
  finished = false;
  /** Bytes waiting for earlier slots to finish. */
  pending: Buffer[] = [];
  /** The connection closes after this answer. */
  closeAfter: boolean;
  /** Status sent, for logs and metrics. */
  status = 0;
  private streamState: StreamImpl | undefined;

  constructor(
    private readonly owner: SlotOwner,
    private readonly method: string,
    private readonly httpVersion: string,
    keepAlive: boolean,
  ) {
    this.closeAfter = !keepAlive;
  }

  send(status: number, body: string | Buffer = '', headers: Record<string, string> = NO_HEADERS): void {
    if (this.sent) return;
    this.sent = true;
    this.status = status;
    // The same small answer again and again (ingest's `200 OK`): reuse its bytes within the same second.
    const memoKey = typeof body === 'string' && body.length <= 64 && this.method !== 'HEAD' ? this.memoKey(status, body) : undefined;
    if (memoKey !== undefined) {
      const hit = memoFor(headers).get(memoKey);
      if (hit && hit.second === dateCacheSecond && hit.second === Math.floor(Date.now() / 1000)) {
        this.owner.output(this, hit.bytes);
        this.owner.finish(this);
        return;
      }
    }
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const all: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', ...headers };
    if (hasHeader(all, 'connection', 'close')) this.closeAfter = true;
    const head = this.head(status, all, bytes.length);
    const omitBody = this.method === 'HEAD' || status === 204 || status === 304;
    const out = omitBody || bytes.length === 0 ? head : Buffer.concat([head, bytes]);
    if (memoKey !== undefined && !this.closeAfter) memoFor(headers).set(memoKey, { second: dateCacheSecond, bytes: out });
    this.owner.output(this, out);
    this.owner.finish(this);
  }

  private memoKey(status: number, body: string): string | undefined {
    if (this.closeAfter || this.owner.closing) return undefined;
    return `${status} ${this.httpVersion} ${body}`;
  }

  json(status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  }

  stream(status: number, headers: Record<string, string>): HttpStream {
    if (this.sent) throw new Error('a response was already started');
    this.sent = true;
    this.status = status;
    // Close-delimited body: the stream's end is the connection's end, which HTTP/1.0 clients understand too.
    this.closeAfter = true;
    this.owner.output(this, this.head(status, headers, undefined));
    this.streamState = new StreamImpl(this, this.owner);
    // A HEAD gets the headers only: the stream is over before its first write.
    if (this.method === 'HEAD') this.streamState.end();
    return this.streamState;
  }

  /** Server shutdown: a running stream ends (its client may reconnect elsewhere or later). */
  endStream(): void {
    this.streamState?.end();
  }

  /** The connection went away: tell a running stream. */
  peerClosed(): void {
    this.streamState?.closeNow();
  }

  get streaming(): boolean {
    return this.streamState !== undefined && !this.streamState.closed;
  }

  private head(status: number, headers: Record<string, string>, length: number | undefined): Buffer {
    const closing = this.closeAfter || this.owner.closing;
    if (closing) this.closeAfter = true;
    let text = `${this.httpVersion} ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\nDate: ${httpDate()}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-length' || lower === 'connection' || lower === 'date') continue;
      text += `${name}: ${headerValue(value)}\r\n`;
    }
    if (length !== undefined) text += `Content-Length: ${length}\r\n`;
    if (closing) text += 'Connection: close\r\n';
    else if (this.httpVersion === 'HTTP/1.0') text += 'Connection: keep-alive\r\n';
    text += '\r\n';
    return Buffer.from(text, 'latin1');
  }
}

function hasHeader(headers: Record<string, string>, name: string, value: string): boolean {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && v.toLowerCase() === value) return true;
  return false;
}

class StreamImpl implements HttpStream {
  closed = false;
  private listeners: (() => void)[] = [];

  constructor(
    private readonly slot: ResponseSlot,
    private readonly owner: SlotOwner,
  ) {}

  write(chunk: string | Buffer): boolean {
    if (this.closed || this.owner.destroyed) return false;
    return this.owner.output(this.slot, typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }

  get buffered(): number {
    return this.closed || this.owner.destroyed ? 0 : this.owner.bufferedOutput;
  }

  end(): void {
    if (this.closed) return;
    this.owner.finish(this.slot);
    this.closeNow();
  }

  abort(): void {
    this.end();
    this.owner.destroy();
  }

  onClose(listener: () => void): void {
    if (this.closed) queueMicrotask(listener);
    else this.listeners.push(listener);
  }

  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l();
  }
}
