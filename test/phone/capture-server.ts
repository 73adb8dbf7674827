/**
 * A bare receiver for tests: a raw `net` (or `tls`) server that records every request's head as bytes, so
 * tests see exactly what went on the wire (raw spaces, raw UTF-8), and answers 200 with keep-alive.
 */
import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter } from 'node:events';

export interface Captured {
  /** The request line, raw bytes, without CRLF. */
  line: Buffer;
  /** The target of the request line, raw bytes. */
  target: Buffer;
  /** The header lines (latin1), lower-cased names. */
  headers: Record<string, string>;
  /** Requests open on this server when this one arrived (this one included). */
  inFlight: number;
  connection: number;
}

export interface CaptureOptions {
  tls?: { key: string; cert: string };
  /** Status per request (0-based index of arrival); default 200. */
  status?: (index: number) => number;
  /** Never answer (for timeouts). */
  silent?: boolean;
  /** Delay before answering, ms. */
  delayMs?: number;
}

export interface CaptureServer {
  port: number;
  base: string;
  requests: Captured[];
  /** Request targets as UTF-8 text. */
  targets(): string[];
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCaptureServer(opts: CaptureOptions = {}): Promise<CaptureServer> {
  const requests: Captured[] = [];
  const events = new EventEmitter();
  const sockets = new Set<net.Socket>();
  let open = 0;
  let connections = 0;
  const onConnection = (socket: net.Socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.subarray(0, end);
        buf = buf.subarray(end + 4);
        const firstEnd = head.indexOf('\r\n');
        const line = Buffer.from(firstEnd === -1 ? head : head.subarray(0, firstEnd));
        const headers: Record<string, string> = {};
        if (firstEnd !== -1) {
          for (const h of head.subarray(firstEnd + 2).toString('latin1').split('\r\n')) {
            const c = h.indexOf(':');
            if (c > 0) headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
          }
        }
        const sp1 = line.indexOf(' ');
        const sp2 = line.lastIndexOf(' ');
        const index = requests.length;
        open++;
        requests.push({ line, target: Buffer.from(line.subarray(sp1 + 1, sp2)), headers, inFlight: open, connection });
        events.emit('request');
        if (opts.silent) continue;
        const close = (headers.connection ?? '').toLowerCase() === 'close';
        const status = opts.status?.(index) ?? 200;
        const answer = () => {
          open--;
          if (socket.destroyed) return;
          socket.write(`HTTP/1.1 ${status} X\r\nContent-Length: 2\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n\r\nOK`);
          if (close) socket.end();
        };
        if (opts.delayMs) setTimeout(answer, opts.delayMs);
        else answer();
      }
    });
  };
  const server = opts.tls ? tls.createServer(opts.tls, onConnection) : net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    base: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    targets: () => requests.map((r) => r.target.toString('utf8')),
    waitFor(count) {
      return new Promise((resolve) => {
        const check = () => {
          if (requests.length >= count) {
            events.off('request', check);
            resolve();
          }
        };
        events.on('request', check);
        check();
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
