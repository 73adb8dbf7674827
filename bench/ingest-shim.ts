/**
 * PROTOTYPE, kept for the ingest benchmark's comparison only (see "Why the receiver parses HTTP itself" in
 * docs/architecture.md): the receiver's HTTP front replaced by `node:http` behind a byte-level shim.
 *
 * The shim sits between the TCP socket and an `http.Server`. It finds where each request ends (head, then a
 * Content-Length body), rewrites only the request line so Node's parser accepts it (space, control bytes
 * and bytes ≥ 0x80 in the target percent-encoded) and remembers the raw target, which the request handler
 * gets back as `rawTarget`. Everything else — keep-alive, pipelining, timeouts, header parsing — is
 * Node's. It exports `createHttpServer` with the same options and result as src/http/server.ts.
 *
 * Known gaps of the prototype: a chunked body makes the shim stop rewriting for the rest of that
 * connection; a target over the limit is answered 414 only when no earlier request is still unanswered.
 *
 * Run as a program it starts the real receiver (`startServer`, SQLite) with this front swapped in through
 * a module resolve hook, and prints `listening on http://127.0.0.1:<port>`:
 *   node --import tsx bench/ingest-shim.ts <db-file> [shim|ours]
 * (`ours`: the same start-up with the receiver's own front, for a like-for-like comparison).
 * With `--test FILE` it runs that test file against the shim instead (robustness comparison).
 */
import http from 'node:http';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { DEFAULT_LIMITS, describeRequestLine, KEPT_LINE_BYTES, type ParsedRequest } from '../src/http/parser.ts';
import { buildRequest, plainAddress, type SocketInfo } from '../src/http/request.ts';
import type { HttpServer, HttpServerOptions } from '../src/http/server.ts';
import type { HttpHandler, HttpRequest, HttpResponse, HttpStream } from '../src/http/types.ts';

const LF = 0x0a;
const SP = 0x20;
const VERSION_MARK = Buffer.from(' HTTP/1.', 'latin1');
const HEX = '0123456789ABCDEF';
const EMPTY = Buffer.alloc(0);

/** Bytes Node's parser refuses in a target. */
const needsEscape = (c: number) => c <= 0x20 || c === 0x7f || c >= 0x80;

function encodeTarget(target: Buffer): Buffer {
  let n = 0;
  for (const c of target) if (needsEscape(c)) n++;
  if (n === 0) return target;
  const out = Buffer.allocUnsafe(target.length + 2 * n);
  let j = 0;
  for (const c of target) {
    if (needsEscape(c)) {
      out[j++] = 0x25;
      out[j++] = HEX.charCodeAt(c >> 4);
      out[j++] = HEX.charCodeAt(c & 15);
    } else out[j++] = c;
  }
  return out;
}

/** The socket as Node's http.Server sees it: request lines rewritten, raw targets remembered in order. */
class ShimSocket extends Duplex {
  readonly rawTargets: (Buffer | undefined)[] = [];
  /** The request line of the request being framed (for refusals). */
  currentLine: Buffer = EMPTY;
  private buf: Buffer = EMPTY;
  private bodyLeft = 0;
  private passThrough = false;

  constructor(
    readonly socket: net.Socket,
    private readonly maxTargetBytes: number,
    private readonly maxHeadBytes: number,
    private readonly refuse: (shim: ShimSocket, status: number, reason: string) => void,
  ) {
    super({ allowHalfOpen: true });
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(this.frame(chunk))) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('timeout', () => this.emit('timeout'));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  // What http.Server calls on its connections.
  get remoteAddress() {
    return this.socket.remoteAddress;
  }
  get localAddress() {
    return this.socket.localAddress;
  }
  get localPort() {
    return this.socket.localPort;
  }
  setTimeout(ms: number, cb?: () => void): this {
    this.socket.setTimeout(ms);
    if (cb) this.once('timeout', cb);
    return this;
  }
  setNoDelay(on?: boolean): this {
    this.socket.setNoDelay(on);
    return this;
  }
  setKeepAlive(on?: boolean, delay?: number): this {
    this.socket.setKeepAlive(on, delay);
    return this;
  }

  override _read(): void {
    this.socket.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }
  override _final(cb: () => void): void {
    this.socket.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }

  /** Input bytes to what Node should parse: each request's line rewritten, bodies passed through. */
  private frame(chunk: Buffer): Buffer {
    if (this.passThrough) return chunk;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, this.buf.length);
        out.push(this.buf.subarray(0, take));
        this.buf = this.buf.subarray(take);
        this.bodyLeft -= take;
        if (this.bodyLeft > 0) break;
      }
      if (this.buf.length === 0) break;
      const end = headEnd(this.buf);
      const lineEnd = this.buf.indexOf(LF);
      if (end === -1) {
        if ((lineEnd === -1 ? this.buf.length : lineEnd) > this.maxTargetBytes + 64) {
          this.currentLine = this.buf.subarray(0, KEPT_LINE_BYTES);
          this.refuse(this, 414, 'request target too long');
          this.buf = EMPTY;
        } else if (this.buf.length > this.maxHeadBytes) {
          // Let Node refuse it (431).
          out.push(this.buf);
          this.buf = EMPTY;
          this.passThrough = true;
        }
        break;
      }
      let line = this.buf.subarray(0, lineEnd);
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
      this.currentLine = Buffer.from(line.subarray(0, KEPT_LINE_BYTES));
      const space = line.indexOf(SP);
      const mark = line.lastIndexOf(VERSION_MARK);
      const head = this.buf.subarray(0, end);
      if (space > 0 && mark > space && mark + VERSION_MARK.length + 1 === line.length) {
        const raw = Buffer.from(line.subarray(space + 1, mark));
        if (raw.length > this.maxTargetBytes) {
          this.refuse(this, 414, 'request target too long');
          this.buf = EMPTY;
          break;
        }
        this.rawTargets.push(raw);
        out.push(line.subarray(0, space + 1), encodeTarget(raw), head.subarray(mark, end));
      } else {
        this.rawTargets.push(undefined);
        out.push(head); // Node refuses it; clientError reports it.
      }
      const framing = bodyFraming(head.toString('latin1'));
      this.buf = this.buf.subarray(end);
      if (framing === 'chunked') {
        out.push(this.buf);
        this.buf = EMPTY;
        this.passThrough = true;
        break;
      }
      this.bodyLeft = framing;
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }
}

/** Index just past the blank line ending the head, or -1. */
function headEnd(b: Buffer): number {
  let i = b.indexOf(LF);
  while (i !== -1 && i + 1 < b.length) {
    if (b[i + 1] === LF) return i + 2;
    if (b[i + 1] === 0x0d && i + 2 < b.length && b[i + 2] === LF) return i + 3;
    i = b.indexOf(LF, i + 1);
  }
  return -1;
}

function bodyFraming(head: string): number | 'chunked' {
  if (/\ntransfer-encoding:[^\n]*chunked/i.test(head)) return 'chunked';
  const m = /\ncontent-length:[ \t]*(\d+)/i.exec(head);
  return m ? Number(m[1]) : 0;
}

const REFUSALS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'request head too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request timeout'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'invalid Content-Length'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'invalid Content-Length'],
};

function headerValue(value: string): string {
  return /[\r\n]/.test(value) ? value.replace(/[\r\n]+/g, ' ') : value;
}

function cleanHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(headers)) out[k] = headerValue(v);
  return out;
}

class ShimResponse implements HttpResponse {
  sent = false;
  constructor(
    private readonly res: http.ServerResponse,
    private readonly method: string,
  ) {}

  send(status: number, body: string | Buffer = '', headers: Record<string, string> = {}): void {
    if (this.sent) throw new Error('a response was already sent');
    this.sent = true;
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...cleanHeaders(headers), 'Content-Length': String(bytes.length) });
    this.res.end(this.method === 'HEAD' ? undefined : bytes);
  }

  json(status: number, value: unknown, headers: Record<string, string> = {}): void {
    this.send(status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  }

  stream(status: number, headers: Record<string, string>): HttpStream {
    if (this.sent) throw new Error('a response was already started');
    this.sent = true;
    const res = this.res;
    // Close-delimited, as in our front.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    res.writeHead(status, { ...cleanHeaders(headers), Connection: 'close' });
    let closed = false;
    const listeners: (() => void)[] = [];
    const close = () => {
      if (closed) return;
      closed = true;
      for (const l of listeners.splice(0)) l();
    };
    res.on('close', close);
    const s: HttpStream = {
      write: (chunk) => (closed ? false : res.write(chunk)),
      get buffered() {
        return closed ? 0 : res.writableLength + (res.socket?.writableLength ?? 0);
      },
      end: () => {
        if (!closed) res.end();
        close();
      },
      abort: () => {
        res.destroy();
        close();
      },
      onClose: (l) => (closed ? queueMicrotask(l) : listeners.push(l)),
      get closed() {
        return closed;
      },
    };
    if (this.method === 'HEAD') s.end();
    return s;
  }
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const onHandlerError = options.onHandlerError ?? (() => {});
  const server = http.createServer({
    requireHostHeader: false,
    maxHeaderSize: limits.maxHeadBytes,
    keepAliveTimeout: options.idleTimeoutMs ?? 30_000,
    headersTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, requestTimeoutMs),
  });
  const open = new Set<ShimSocket>();

  const report = (shim: ShimSocket, status: number, reason: string) => {
    const { method, target } = describeRequestLine(shim.currentLine);
    try {
      options.onRefused?.({ status, reason, method, rawTarget: target, remoteAddress: plainAddress(shim.remoteAddress) });
    } catch {
      // best effort, as in our front
    }
  };
  const refuseDirect = (shim: ShimSocket, status: number, reason: string) => {
    shim.socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: ${reason.length + 1}\r\n\r\n${reason}\n`);
    options.onResponse?.(undefined, status);
    report(shim, status, reason);
  };

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const [status, reason] = REFUSALS[err.code ?? ''] ?? [400, 'malformed request'];
    if (socket.writable) socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: ${reason.length + 1}\r\n\r\n${reason}\n`);
    else socket.destroy();
    options.onResponse?.(undefined, status);
    if (socket instanceof ShimSocket) report(socket, status, reason);
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const shim = req.socket as unknown as ShimSocket;
    const rawTarget = shim.rawTargets.shift() ?? Buffer.from(req.url ?? '/', 'latin1');
    const info: SocketInfo = {
      remoteAddress: plainAddress(shim.remoteAddress),
      localAddress: plainAddress(shim.localAddress),
      localPort: shim.localPort ?? 0,
      secure: false,
    };
    const httpVersion = req.httpVersion === '1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
    const dispatch = (body: Buffer) => {
      const parsed: ParsedRequest = {
        kind: 'request',
        method: req.method ?? 'GET',
        rawTarget,
        httpVersion,
        headers: req.headers as Record<string, string>,
        body,
        keepAlive: true,
      };
      const request = buildRequest(parsed, info, performance.now());
      const response = new ShimResponse(res, request.method);
      res.on('finish', () => options.onResponse?.(request, res.statusCode));
      run(options.handler, request, response, onHandlerError);
    };
    const length = Number(req.headers['content-length'] ?? 0);
    if (length === 0 && req.headers['transfer-encoding'] === undefined) {
      dispatch(EMPTY);
      req.resume();
      return;
    }
    if (length > limits.maxBodyBytes) {
      res.writeHead(413, { Connection: 'close' }).end('request body too large\n');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => dispatch(Buffer.concat(chunks)));
  });

  const accept = (socket: net.Socket) => {
    socket.setNoDelay(true);
    const shim = new ShimSocket(socket, limits.maxTargetBytes, limits.maxHeadBytes, refuseDirect);
    open.add(shim);
    options.onConnectionCount?.(open.size);
    shim.once('close', () => {
      open.delete(shim);
      options.onConnectionCount?.(open.size);
    });
    server.emit('connection', shim);
  };
  const listener = net.createServer({ allowHalfOpen: true, noDelay: true }, accept);
  listener.on('error', () => {});

  return {
    server: listener,
    get connections() {
      return open.size;
    },
    listen(port, host) {
      return new Promise((ok, fail) => {
        listener.once('error', fail);
        listener.listen(port, host, () => {
          listener.off('error', fail);
          ok(listener.address() as AddressInfo);
        });
      });
    },
    async close(graceMs = 5000) {
      const closed = new Promise<void>((ok) => listener.close(() => ok()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => {
        for (const s of open) s.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
      server.close();
    },
  };
}

function run(handler: HttpHandler, req: HttpRequest, res: ShimResponse, onError: (err: unknown, req: HttpRequest) => void): void {
  const fail = (err: unknown) => {
    onError(err, req);
    if (!res.sent) res.send(500, 'internal error\n');
  };
  let result: void | Promise<void>;
  try {
    result = handler(req, res);
  } catch (err) {
    fail(err);
    return;
  }
  if (result && typeof result.then === 'function') {
    result.then(() => {
      if (!res.sent) fail(new Error(`handler for ${req.method} ${req.path} returned without answering`));
    }, fail);
  }
}

/** Makes every import of src/http/server.ts (except from this file) load this file instead. */
function swapFront(): void {
  const self = import.meta.url;
  const ours = pathToFileURL(resolve(import.meta.dirname, '../src/http/server.ts')).href;
  const hooks = `
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      if (r.url === ${JSON.stringify(ours)} && context.parentURL !== ${JSON.stringify(self)}) return { ...r, url: ${JSON.stringify(self)} };
      return r;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const args = process.argv.slice(2);
  if (args[0] === '--test') {
    // The test file's tests run in this process, so they get the swapped front.
    swapFront();
    void import(pathToFileURL(resolve(args[1])).href);
  } else {
    // `ours` starts the same receiver with its own front: the like-for-like comparison.
    if (args[1] !== 'ours') swapFront();
    // Not awaited at the top level: the receiver imports this module (as its front), which must have
    // finished evaluating first.
    void import('../src/start.ts').then(async ({ startServer }) => {
      const server = await startServer({ db: args[0], port: 0, host: '127.0.0.1', logLevel: 'warn' });
      process.stdout.write(`listening on ${server.url}\n`);
      process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
    });
  }
}
