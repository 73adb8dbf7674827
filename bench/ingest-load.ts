/**
 * Load generation for the ingest benchmark: raw-socket keep-alive clients sending realistic Action URL
 * requests (many phones, whole call flows, display names with raw spaces and UTF-8), either as fast as the
 * server answers (closed loop) or at a fixed rate (open loop, latency measured from the scheduled send time
 * so a stalled server cannot hide its stalls).
 */
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository's root (the benchmarks run from their sources). */
export const ROOT = resolve(import.meta.dirname, '..');
/** Warm-up before measured runs: connections open, JIT and page cache warm. */
export const WARMUP_MS = 1500;

/** A number as the reports print it: thousands separated, `digits` decimals. */
export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Requests answered 200 per second. */
export const rateOf = (r: LoadResult) => r.ok / r.seconds;

const FLOW = ['incoming_call', 'call_established', 'hold', 'unhold', 'call_terminated', 'busy_to_idle', 'dnd_on', 'dnd_off', 'registered'];
const NAMES = ['Jörg Müller', 'Ann Lee', 'Zoë Saldaña-Perez', 'Front Desk 2', 'François Dubois', 'Björn Ångström', 'Mei Ling Chen'];

/** The request line and headers for the i-th request; `encode`: spaces and non-ASCII percent-encoded. */
export function requestFor(i: number, phones: number, encode: boolean): Buffer {
  const phone = i % phones;
  const round = Math.floor(i / phones);
  const incident = FLOW[round % FLOW.length];
  const mac = (0x001565000000 + phone).toString(16).padStart(12, '0');
  const user = 100 + (phone % 900);
  const callId = Math.floor(round / FLOW.length) + 1;
  const name = NAMES[(phone + callId) % NAMES.length];
  let target =
    `/actionurl/${incident}?mac=${mac}&ip=10.${(phone >> 16) & 255}.${(phone >> 8) & 255}.${phone & 255}` +
    `&model=SIP-T46S&firmware=66.86.0.15&active_url=sip:${user}@pbx.local&active_user=${user}&active_host=pbx.local` +
    `&local=sip:${user}@pbx.local&remote=sip:${2000 + callId}@pbx.local&display_local=Desk ${user}` +
    `&display_remote=${name}&call_id=${callId}`;
  if (encode) target = encodeURI(target);
  return Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Yealink SIP-T46S 66.86.0.15\r\n\r\n`, 'utf8');
}

export interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
  /** Milliseconds, sorted. */
  latencies: number[];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One keep-alive connection with at most one request in flight. */
class Client {
  private readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: ((status: number) => void) | undefined;
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', () => this.fail());
    this.socket.on('close', () => this.fail());
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  send(request: Buffer, done: (status: number) => void): void {
    this.pending = done;
    this.socket.write(request);
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(): void {
    const p = this.pending;
    this.pending = undefined;
    p?.(0);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = this.buf.toString('latin1', 0, end);
      const m = /content-length:\s*(\d+)/i.exec(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (this.buf.length < total) return;
      const status = Number(head.slice(9, 12));
      this.buf = this.buf.subarray(total);
      const p = this.pending;
      this.pending = undefined;
      p?.(status);
    }
  }
}

async function connect(port: number, n: number): Promise<Client[]> {
  const clients = Array.from({ length: n }, () => new Client(port));
  await Promise.all(clients.map((c) => c.ready));
  return clients;
}

export interface ClosedLoopOptions {
  connections: number;
  durationMs: number;
  phones: number;
  encode: boolean;
  /** Request numbering starts here (so runs against one server continue the call flows). */
  offset?: number;
}

/** Every connection sends its next request as soon as the previous one is answered. */
export async function closedLoop(port: number, o: ClosedLoopOptions): Promise<LoadResult> {
  const clients = await connect(port, o.connections);
  let next = o.offset ?? 0;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  const deadline = start + o.durationMs;
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          const go = () => {
            if (performance.now() >= deadline) return resolve();
            const sentAt = performance.now();
            client.send(requestFor(next++, o.phones, o.encode), (status) => {
              latencies.push(performance.now() - sentAt);
              if (status === 200) ok++;
              else failed++;
              if (status === 0) return resolve();
              go();
            });
          };
          go();
        }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const c of clients) c.close();
  return { ok, failed, seconds, latencies: latencies.sort((a, b) => a - b) };
}

export interface PacedOptions extends ClosedLoopOptions {
  /** Requests per second. */
  rate: number;
}

/** Requests at a fixed rate, each on a free connection; latency counts from when it was due. */
export async function paced(port: number, o: PacedOptions): Promise<LoadResult> {
  const clients = await connect(port, o.connections);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let next = o.offset ?? 0;
  let scheduled = 0;
  let answered = 0;
  const waiting: number[] = [];
  const total = Math.round((o.rate * o.durationMs) / 1000);
  const start = performance.now();

  return new Promise((resolve) => {
    const dispatch = (client: Client, dueAt: number) => {
      client.send(requestFor(next++, o.phones, o.encode), (status) => {
        latencies.push(performance.now() - dueAt);
        if (status === 200) ok++;
        else failed++;
        answered++;
        const queued = waiting.shift();
        if (queued !== undefined) dispatch(client, queued);
        if (answered === total) finish();
      });
    };
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * o.rate));
      for (; scheduled < due; scheduled++) {
        const dueAt = start + (scheduled * 1000) / o.rate;
        const free = clients.find((c) => !c.busy);
        if (free) dispatch(free, dueAt);
        else waiting.push(dueAt);
      }
      if (scheduled >= total) clearInterval(timer);
    };
    const timer = setInterval(tick, 1);
    const finish = () => {
      clearInterval(timer);
      for (const c of clients) c.close();
      resolve({ ok, failed, seconds: (performance.now() - start) / 1000, latencies: latencies.sort((a, b) => a - b) });
    };
  });
}

/** Spawns a process and resolves with its port once a stdout line matches `pattern` (group 1: the port). */
export function spawnListening(command: string[], pattern: RegExp): Promise<{ child: ChildProcess; port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, command, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    let found = false;
    child.stdout!.on('data', (c: Buffer) => {
      if (found) return;
      out += c.toString();
      const m = pattern.exec(out);
      if (m) {
        found = true;
        resolve({
          child,
          port: Number(m[1]),
          async stop() {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited (${code}) before listening`)));
  });
}

/** `actionurl serve` on a free loopback port with a SQLite database, as a child process; `extra`: more flags. */
export function spawnServe(db: string, extra: readonly string[] = []) {
  return spawnListening(
    [join(ROOT, 'bin/actionurl.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--log-level', 'warn', ...extra],
    /listening on https?:\/\/[^\s]+:(\d+)/,
  );
}
