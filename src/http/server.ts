/**
 * The listening side: a plain TCP (`net`) or TLS (`tls`) server whose connections speak HTTP/1.x through
 * our own parser, plus an orderly shutdown (stop accepting, let answers in hand go out, close the rest).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Connection, type ConnectionOptions } from './connection.ts';
import { DEFAULT_LIMITS, type ParserLimits } from './parser.ts';
import { plainAddress } from './request.ts';
import type { HttpHandler, HttpRefusal, HttpRequest } from './types.ts';

export interface HttpServerOptions {
  handler: HttpHandler;
  /** PEM certificate chain and key: serve HTTPS instead of HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  limits?: Partial<ParserLimits>;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxPipeline?: number;
  responseTimeoutMs?: number;
  /** Unsent answer bytes per connection before it stops reading further pipelined requests. Default 256 KiB. */
  maxBufferedOutput?: number;
  onHandlerError?(err: unknown, req: HttpRequest): void;
  onResponse?(req: HttpRequest | undefined, status: number): void;
  /** A request the HTTP layer refused itself (malformed, too long, unsupported, too slow). */
  onRefused?(refusal: HttpRefusal): void;
  /** Connection opened or closed (for the open-connections gauge). */
  onConnectionCount?(open: number): void;
  /**
   * Most connections open at once from one source address (counted from the TCP accept, TLS handshakes
   * included); a further one is closed at once, before a byte is read. 0 or absent: no limit.
   */
  maxConnectionsPerAddress?: number;
  /** Addresses the per-address limit does not apply to (a reverse proxy on this machine, say). */
  unlimitedAddress?(address: string): boolean;
  /** A connection closed because its address had `maxConnectionsPerAddress` open. */
  onConnectionRefused?(address: string, open: number): void;
  /**
   * The listening socket could not accept a connection (EMFILE/ENFILE: out of file descriptors), with how
   * many idle connections were closed to make room. The server keeps listening.
   */
  onAcceptError?(err: NodeJS.ErrnoException, idleClosed: number): void;
  /**
   * Most sockets open at once (the process's file limit less a reserve, see fd-limit.ts). At it, the idle
   * connections open longest are closed to make room for a new one; with none idle, the new one is closed.
   * Absent: no limit.
   */
  maxSockets?: number;
  /** At `maxSockets`: how many idle connections were closed, and whether the new connection was refused. */
  onSocketsFull?(open: number, idleClosed: number, refused: boolean): void;
}

/** Out of file descriptors, idle connections are closed at most this often (each time is a pass over all). */
const SHED_EVERY_MS = 250;

export interface HttpServer {
  readonly server: net.Server;
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Open connections now. */
  readonly connections: number;
  /** Stops accepting, closes idle connections, waits up to `graceMs` for answers in hand, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const connOpts: ConnectionOptions = {
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    maxPipeline: options.maxPipeline ?? 32,
    responseTimeoutMs: options.responseTimeoutMs ?? 30_000,
    maxBufferedOutput: options.maxBufferedOutput ?? 256 * 1024,
    onHandlerError: options.onHandlerError ?? (() => {}),
    onResponse: options.onResponse,
    onRefused: options.onRefused,
  };
  const open = new Set<Connection>();

  const accept = (socket: net.Socket) => {
    // Refused by the per-address limit (below, which runs first).
    if (socket.destroyed) return;
    // Half-open once the handshake is done: a client that shuts its sending side after the request still
    // gets its answer. (Not before: see below.)
    socket.allowHalfOpen = true;
    const conn = new Connection(socket, options.handler, connOpts);
    open.add(conn);
    options.onConnectionCount?.(open.size);
    conn.whenGone(() => {
      open.delete(conn);
      shedding.delete(conn);
      options.onConnectionCount?.(open.size);
    });
  };

  let server: net.Server;
  if (options.tls) {
    // Not half-open during the handshake: a phone that does not trust the certificate closes its side
    // without a TLS alert, and a half-open socket would then wait in CLOSE-WAIT for good. A client that says
    // nothing is cut after handshakeTimeout.
    const s = tls.createServer({ cert: options.tls.cert, key: options.tls.key, allowHalfOpen: false, handshakeTimeout: 10_000 }, accept);
    // A failed handshake is the client's problem; it must not become an unhandled error, nor keep its socket.
    s.on('tlsClientError', (_err, socket) => socket.destroy());
    server = s;
  } else {
    server = net.createServer({ allowHalfOpen: true, noDelay: true }, accept);
  }
  // Once listening, the errors left are failed accepts. Out of file descriptors, the kernel keeps further
  // clients waiting (Node closes those it cannot take) while every connection in hand goes on; closing the
  // idle ones (nothing asked, nothing being answered) gives the next clients a descriptor, instead of a
  // flood of idle sockets locking everyone else out until they time out.
  let lastShed = -Infinity;
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EMFILE' && err.code !== 'ENFILE') return;
    let closed = 0;
    const now = performance.now();
    if (now - lastShed >= SHED_EVERY_MS) {
      lastShed = now;
      closed = closeIdle(Infinity);
    }
    options.onAcceptError?.(err, closed);
  });
  /** Connections closed to make room whose sockets have not reported 'close' yet. */
  const shedding = new Set<Connection>();
  /** Closes up to `most` idle connections, longest open first (a Set keeps insertion order). */
  const closeIdle = (most: number): number => {
    let n = 0;
    for (const conn of open) {
      if (n >= most) break;
      if (!conn.idle) continue;
      shedding.add(conn);
      conn.destroy();
      n++;
    }
    return n;
  };
  // Before the file limit: room made from idle connections, a twentieth of the budget at a time so that a
  // flood of new sockets does not mean a pass over all connections for each one.
  const maxSockets = options.maxSockets;
  if (maxSockets !== undefined) {
    server.prependListener('connection', (socket: net.Socket) => {
      if (socket.destroyed || sockets.size - shedding.size < maxSockets) return;
      const closed = closeIdle(Math.max(1, Math.ceil(maxSockets / 20)));
      const refused = closed === 0;
      if (refused) socket.destroy();
      options.onSocketsFull?.(sockets.size - shedding.size, closed, refused);
    });
  }
  // Per source address. Ahead of the server's own listener, so a refused socket never becomes a Connection
  // (nor starts a TLS handshake): one client flooding sockets cannot take every file descriptor.
  const perAddress = new Map<string, number>();
  const maxPerAddress = options.maxConnectionsPerAddress ?? 0;
  if (maxPerAddress > 0) {
    server.prependListener('connection', (socket: net.Socket) => {
      const address = plainAddress(socket.remoteAddress);
      if (address === '' || options.unlimitedAddress?.(address)) return;
      const n = perAddress.get(address) ?? 0;
      if (n >= maxPerAddress) {
        socket.destroy();
        options.onConnectionRefused?.(address, n);
        return;
      }
      perAddress.set(address, n + 1);
      socket.once('close', () => {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left <= 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
    });
  }
  // Every socket, including TLS ones still in their handshake (not yet a Connection), so that shutdown can
  // cut whatever is left when the grace period is over.
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    server,
    get connections() {
      return open.size;
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close(graceMs = 5000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of open) conn.shutdown();
      const deadline = setTimeout(() => {
        for (const conn of open) conn.destroy();
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
    },
  };
}
