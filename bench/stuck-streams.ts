/**
 * Event-stream clients that never read, against the API everyone else uses. Starts `actionurl serve` in a
 * child process (its RSS is the receiver's alone) and, in the same run, three times: with no stream client,
 * with 200 clients that connect to /api/v1/stream and never read, and with those 200 and the total cap for
 * stream clients switched off (--stream-memory at its largest) to show what the cap holds back. Meanwhile
 * big events (display names near the longest a request line takes, ~15 KiB per stream message) arrive at a
 * steady rate and a probe asks the API every 20 ms. Prints, side by side: API latency, ingest latency,
 * receiver RSS at the start and at its peak, and the stream clients dropped.
 *
 *   npm run bench -- stuck-streams            200 stuck clients, 150 events/s, 20 s per run
 *   BENCH_STUCK=100 BENCH_RATE=300 BENCH_SECONDS=10 npm run bench -- stuck-streams
 *   BENCH_BIN=/other/checkout/bin/actionurl.js npm run bench -- stuck-streams   another build (an older one
 *     has no --stream-memory: BENCH_RUNS=2 leaves out the third run)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const STUCK = Number(process.env.BENCH_STUCK ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 150);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const BIN = process.env.BENCH_BIN ? resolve(process.env.BENCH_BIN) : resolve(import.meta.dirname, '../bin/actionurl.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Receiver {
  child: ChildProcess;
  port: number;
}

async function startReceiver(dir: string, extra: string[]): Promise<Receiver> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--log-level', 'error', '--db', join(dir, 'db.sqlite'), ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  for (let i = 0; i < 1000; i++) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]) };
    await sleep(10);
  }
  throw new Error(`receiver did not start: ${out}`);
}

/** Resident memory of a process now (MiB), from /proc. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

interface Figures {
  apiMs: number[];
  ingestMs: number[];
  ingestFailed: number;
  rssStart: number;
  rssPeak: number;
  rssEnd: number;
  dropped: number;
  memoryDropped: number;
}

async function run(stuck: number, extra: string[]): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-stuck-'));
  const r = await startReceiver(dir, extra);
  const sockets: net.Socket[] = [];
  try {
    await fetch(`http://127.0.0.1:${r.port}/actionurl/registered?mac=001565000001`);
    await sleep(500);
    const rssStart = rssMiB(r.child.pid!);
    for (let i = 0; i < stuck; i++) {
      const s = net.connect(r.port, '127.0.0.1');
      s.on('error', () => {});
      // Never reads: no 'data' listener, so the kernel's buffers fill, then the receiver's.
      s.write('GET /api/v1/stream?phones=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      sockets.push(s);
    }
    await sleep(500);
    const big = encodeURIComponent('Big Name '.repeat(700)).slice(0, 6000);
    const f: Figures = { apiMs: [], ingestMs: [], ingestFailed: 0, rssStart, rssPeak: rssStart, rssEnd: 0, dropped: 0, memoryDropped: 0 };
    const end = performance.now() + SECONDS * 1000;
    let n = 0;
    const ingest = async () => {
      const t = performance.now();
      try {
        const res = await fetch(`http://127.0.0.1:${r.port}/actionurl/incoming_call?mac=0015650${String(n % 1000).padStart(5, '0')}&call_id=${n++}&display_remote=${big}`);
        await res.arrayBuffer();
        if (res.status !== 200) f.ingestFailed++;
      } catch {
        f.ingestFailed++;
      }
      f.ingestMs.push(performance.now() - t);
    };
    const probe = async () => {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${r.port}/api/v1/events?limit=20`);
      await res.arrayBuffer();
      f.apiMs.push(performance.now() - t);
    };
    const sender = (async () => {
      const pending: Promise<void>[] = [];
      for (let next = performance.now(); performance.now() < end; next += 1000 / RATE) {
        pending.push(ingest());
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
      }
      await Promise.all(pending);
    })();
    const prober = (async () => {
      while (performance.now() < end) {
        await probe();
        await sleep(20);
      }
    })();
    const sampler = (async () => {
      while (performance.now() < end) {
        f.rssPeak = Math.max(f.rssPeak, rssMiB(r.child.pid!));
        await sleep(100);
      }
    })();
    await Promise.all([sender, prober, sampler]);
    f.rssEnd = rssMiB(r.child.pid!);
    f.dropped = await metric(r.port, 'actionurl_stream_dropped_total');
    f.memoryDropped = await metric(r.port, 'actionurl_stream_memory_dropped_total');
    return f;
  } finally {
    for (const s of sockets) s.destroy();
    r.child.kill();
    await new Promise((res) => r.child.once('exit', res));
    rmSync(dir, { recursive: true, force: true });
  }
}

const plan: [string, number, string[]][] = [
  ['no stream client', 0, []],
  [`${STUCK} stuck clients`, STUCK, []],
  [`${STUCK} stuck, no total cap`, STUCK, ['--stream-memory', '1048576']],
];
const runs: [string, Figures][] = [];
for (const [name, stuck, extra] of plan.slice(0, RUNS)) runs.push([name, await run(stuck, extra)]);
const cell = (s: string) => s.padStart(26);
const row = (label: string, value: (f: Figures) => string) => console.log(label.padEnd(22) + runs.map(([, f]) => cell(value(f))).join(''));
console.log(`${RATE} events/s of ~15 KiB stream messages for ${SECONDS} s, API probe every 20 ms; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}`);
console.log(''.padEnd(22) + runs.map(([name]) => cell(name)).join(''));
row('API p50 / p99 / max', (f) => `${pct(f.apiMs, 50).toFixed(1)} / ${pct(f.apiMs, 99).toFixed(1)} / ${Math.max(...f.apiMs).toFixed(0)} ms`);
row('ingest p50 / p99', (f) => `${pct(f.ingestMs, 50).toFixed(1)} / ${pct(f.ingestMs, 99).toFixed(1)} ms`);
row('ingest failed', (f) => `${f.ingestFailed} of ${f.ingestMs.length}`);
row('RSS start / peak / end', (f) => `${f.rssStart.toFixed(0)} / ${f.rssPeak.toFixed(0)} / ${f.rssEnd.toFixed(0)} MiB`);
row('dropped: own / total', (f) => `${f.dropped} / ${f.memoryDropped}`);
