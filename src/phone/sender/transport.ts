/**
 * Sending one GET on a raw socket (net or tls) and reading the status: Node's HTTP client refuses the raw
 * spaces and UTF-8 that firmware puts into the request line, so the request is written by hand.
 *
 * One phone sends `Connection: close`, one connection per request, as firmware does. A fleet shares one
 * transport with keep-alive connections pooled per server, so thousands of phones do not open thousands of
 * sockets per second.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ResponseReader } from './response.ts';
import { requestBytes, type RequestTarget } from './target.ts';

export interface TransportOptions {
  /** Reuse connections (fleet). Default false: one connection per request, as a phone does. */
  keepAlive?: boolean;
  /** Connections per server when keeping alive. Default 64. */
  maxSocketsPerOrigin?: number;
  /** Extra CA certificates (PEM) to trust for HTTPS. */
  ca?: string | Buffer;
  /** Accept any certificate (self-signed test receivers). */
  insecure?: boolean;
  /** Whole request, connect to last byte. Default 5000 ms. */
  timeoutMs?: number;
  userAgent?: string;
  /** Send `HTTP/1.0` request lines, as some older firmware does. */
  http10?: boolean;
  /** Leave out the Host header, as some firmware does. */
  noHost?: boolean;
}

export interface SendOutcome {
  /** HTTP status, or null when no response came. */
  status: number | null;
  /** Why no response came: `timeout`, `ECONNREFUSED`, a TLS error code, `bad_response: …`. */
  error?: string;
  latencyMs: number;
}

interface Pending {
  reader: ResponseReader;
  started: number;
  timer: NodeJS.Timeout;
  gotBytes: boolean;
  finish(outcome: { status: number | null; error?: string; close: boolean }): void;
}

/** A connection and the request it is serving. */
class Conn {
  current: Pending | null = null;
  dead = false;
  idleTimer: NodeJS.Timeout | null = null;

  constructor(readonly socket: net.Socket, readonly key: string) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(errorCode(err)));
    socket.on('close', () => this.onClose());
  }

  private onData(chunk: Buffer): void {
    const p = this.current;
    if (!p) {
      // Bytes nobody asked for: the server is confused; this connection cannot be trusted with another request.
      this.socket.destroy();
      return;
    }
    p.gotBytes = true;
    try {
      if (p.reader.push(chunk)) p.finish({ status: p.reader.response!.status, close: p.reader.response!.close });
    } catch (err) {
      p.finish({ status: null, error: `bad_response: ${(err as Error).message}`, close: true });
    }
  }

  private onClose(): void {
    this.dead = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const p = this.current;
    if (!p) return;
    if (p.reader.end() && p.reader.response) p.finish({ status: p.reader.response.status, close: true });
    else p.finish({ status: null, error: p.gotBytes ? 'bad_response: connection closed mid-response' : 'ECONNRESET', close: true });
  }

  fail(error: string): void {
    this.dead = true;
    this.current?.finish({ status: null, error, close: true });
    this.socket.destroy();
  }
}

function errorCode(err: NodeJS.ErrnoException): string {
  return err.code ?? err.message;
}

export class Transport {
  private readonly idle = new Map<string, Conn[]>();
  private readonly open = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private closed = false;
  readonly timeoutMs: number;

  constructor(private readonly opts: TransportOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  /** One GET. Never rejects: a failure is an outcome with `error`. */
  async send(t: RequestTarget): Promise<SendOutcome> {
    const started = performance.now();
    const bytes = requestBytes(t, {
      userAgent: this.opts.userAgent, keepAlive: this.opts.keepAlive, http10: this.opts.http10, noHost: this.opts.noHost,
    });
    const key = `${t.secure ? 's' : ''}|${t.host}|${t.port}`;
    for (let attempt = 0; ; attempt++) {
      const conn = await this.acquire(key, t);
      const reused = conn.socket.bytesWritten > 0;
      const r = await this.exchange(conn, bytes, started);
      // A kept-alive connection the server closed while idle: try once more on a fresh one (nothing was received).
      if (r.error && r.stale && reused && attempt === 0) continue;
      return { status: r.status, ...(r.error ? { error: r.error } : {}), latencyMs: performance.now() - started };
    }
  }

  /** Closes idle kept-alive connections; in-flight requests finish. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const c of list) c.socket.destroy();
    this.idle.clear();
  }

  private exchange(conn: Conn, bytes: Buffer, started: number): Promise<{ status: number | null; error?: string; stale: boolean }> {
    return new Promise((resolve) => {
      const remaining = Math.max(1, this.timeoutMs - (performance.now() - started));
      const pending: Pending = {
        reader: new ResponseReader(),
        started,
        gotBytes: false,
        timer: setTimeout(() => conn.fail('timeout'), remaining),
        finish: (o) => {
          if (conn.current !== pending) return;
          clearTimeout(pending.timer);
          conn.current = null;
          const stale = !pending.gotBytes && (o.error === 'ECONNRESET' || o.error === 'EPIPE');
          if (o.close || o.error || !this.opts.keepAlive) {
            conn.dead = true;
            conn.socket.destroy();
          }
          this.release(conn);
          resolve({ status: o.status, ...(o.error ? { error: o.error } : {}), stale });
        },
      };
      conn.current = pending;
      if (conn.dead) {
        pending.finish({ status: null, error: 'ECONNRESET', close: true });
        return;
      }
      conn.socket.write(bytes);
    });
  }

  private acquire(key: string, t: RequestTarget): Promise<Conn> {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const c = list.pop()!;
      if (c.idleTimer) clearTimeout(c.idleTimer);
      c.idleTimer = null;
      if (!c.dead) return Promise.resolve(c);
    }
    const max = this.opts.keepAlive ? (this.opts.maxSocketsPerOrigin ?? 64) : Infinity;
    if ((this.open.get(key) ?? 0) < max) return Promise.resolve(this.connect(key, t));
    return new Promise((resolve) => {
      const q = this.waiting.get(key) ?? [];
      q.push(() => resolve(this.acquire(key, t)));
      this.waiting.set(key, q);
    });
  }

  private connect(key: string, t: RequestTarget): Conn {
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    const socket = t.secure
      ? tls.connect({
        host: t.host,
        port: t.port,
        // SNI only carries names, never addresses.
        ...(net.isIP(t.host) ? {} : { servername: t.host }),
        ...(this.opts.ca ? { ca: this.opts.ca } : {}),
        rejectUnauthorized: !this.opts.insecure,
      })
      : net.connect({ host: t.host, port: t.port });
    socket.setNoDelay(true);
    const conn = new Conn(socket, key);
    socket.once('close', () => {
      this.open.set(key, (this.open.get(key) ?? 1) - 1);
      this.wakeOne(key);
    });
    return conn;
  }

  private release(conn: Conn): void {
    if (conn.dead || this.closed) return; // the close handler frees the slot
    const waiter = this.waiting.get(conn.key)?.shift();
    const list = this.idle.get(conn.key) ?? [];
    list.push(conn);
    this.idle.set(conn.key, list);
    // Servers drop idle connections after a few seconds; drop ours first so requests rarely meet a closed one.
    conn.idleTimer = setTimeout(() => conn.socket.destroy(), 4000);
    conn.idleTimer.unref();
    waiter?.();
  }

  private wakeOne(key: string): void {
    this.waiting.get(key)?.shift()?.();
  }
}
