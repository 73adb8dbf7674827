/** A minimal Server-Sent Events reader over a raw socket, for tests. */
import net from 'node:net';

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

export interface SseClient {
  messages: SseMessage[];
  /** Comment lines received (heartbeats). */
  comments: string[];
  status: Promise<number>;
  /** Resolves once `n` data messages arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<SseMessage[]>;
  waitForComment(timeoutMs?: number): Promise<void>;
  closed: Promise<void>;
  close(): void;
}

export function openSse(port: number, path: string, headers: Record<string, string> = {}): SseClient {
  const socket = net.connect(port, '127.0.0.1');
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${head}\r\n`);
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let buf = '';
  let headDone = false;
  let resolveStatus: (n: number) => void;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    if (!headDone) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      resolveStatus(Number(buf.slice(9, 12)));
      buf = buf.slice(end + 4);
      headDone = true;
    }
    let sep;
    while ((sep = buf.indexOf('\n\n')) !== -1) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      const msg: SseMessage = { data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) msg.id = line.slice(4);
        else if (line.startsWith('event: ')) msg.event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) {
        msg.data = data.join('\n');
        messages.push(msg);
      }
    }
    notify();
  });
  const closed = new Promise<void>((r) => socket.on('close', () => {
    resolveStatus(0);
    notify();
    r();
  }));
  socket.on('error', () => {});
  const until = (cond: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else if (socket.destroyed) {
          clearTimeout(timer);
          reject(new Error(`stream closed before ${what}`));
        } else waiters.push(check);
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      check();
    });
  return {
    messages,
    comments,
    status,
    closed,
    async waitFor(n, timeoutMs = 5000) {
      await until(() => messages.length >= n, timeoutMs, `${n} messages (have ${messages.length})`);
      return messages.slice(0, n);
    },
    waitForComment(timeoutMs = 5000) {
      return until(() => comments.length > 0, timeoutMs, 'a comment');
    },
    close() {
      socket.destroy();
    },
  };
}
