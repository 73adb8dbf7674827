/**
 * A raw-socket HTTP client for tests: sends exact bytes (raw spaces, Latin-1, garbage) and reads the answers
 * back, however many were pipelined, until the server closes or the expected number arrived.
 */
import net from 'node:net';

export interface RawResponse {
  version: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Parses complete responses from `buf` (Content-Length bodies, or a close-delimited last one when `ended`). */
export function parseResponses(buf: Buffer, ended: boolean): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', at);
    if (headEnd === -1) break;
    const lines = buf.toString('latin1', at, headEnd).split('\r\n');
    const [version, code] = lines[0].split(' ');
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const status = Number(code);
    if (status === 100) {
      at = headEnd + 4;
      continue;
    }
    const len = headers['content-length'];
    if (len === undefined) {
      if (!ended) break;
      responses.push({ version, status, headers, body: buf.subarray(headEnd + 4) });
      at = buf.length;
      break;
    }
    const end = headEnd + 4 + Number(len);
    if (end > buf.length) break;
    responses.push({ version, status, headers, body: buf.subarray(headEnd + 4, end) });
    at = end;
  }
  return { responses, rest: buf.subarray(at) };
}

export interface SendOptions {
  /** Write one byte at a time, yielding between writes. */
  byteByByte?: boolean;
  /** Resolve once this many answers arrived (default: when the server closes). */
  expect?: number;
  /** Give up after this long (ms); resolves with what arrived. */
  timeoutMs?: number;
  /** Half-close after writing. */
  endAfterWrite?: boolean;
}

export interface SendResult {
  responses: RawResponse[];
  /** The server closed the connection. */
  closed: boolean;
  raw: Buffer;
}

export function sendRaw(port: number, data: Buffer | string, opts: SendOptions = {}): Promise<SendResult> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let raw = Buffer.alloc(0);
    let closed = false;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses: parseResponses(raw, closed).responses, closed, raw });
    };
    const timer = setTimeout(finish, opts.timeoutMs ?? 5000);
    socket.on('data', (chunk) => {
      raw = Buffer.concat([raw, chunk]);
      if (opts.expect !== undefined && parseResponses(raw, false).responses.length >= opts.expect) finish();
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', (err) => {
      if (!finished && raw.length === 0 && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
      closed = true;
      finish();
    });
    socket.on('connect', async () => {
      if (opts.byteByByte) {
        for (const b of bytes) {
          if (socket.destroyed) return;
          socket.write(Buffer.from([b]));
          await new Promise((r) => setImmediate(r));
        }
      } else {
        socket.write(bytes);
      }
      if (opts.endAfterWrite) socket.end();
    });
  });
}
