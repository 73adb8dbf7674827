/**
 * Soak: the receiver on a log grown to millions of events, under minutes of mixed realistic and broken
 * traffic. Prints its resident memory over time (it should be flat once warmed up), the largest event-loop
 * block (perf_hooks.monitorEventLoopDelay) during the traffic and during the API reads, and the latency of
 * the API reads at the end: the phones list paged through, a phone, events (plain, since, until, filtered deep
 * in one phone's history, paged down it), calls.
 *
 * The log is written straight into SQLite with the real schema (see soak-seed.ts). The receiver runs in this
 * process (so its event loop and memory are measured), the traffic and the reads in child processes.
 *
 *   npm run bench -- soak [--events=2000000] [--minutes=2] [--rate=600] [--db=/path/to/soak.sqlite]
 *
 * `--db` keeps the seeded log at that path and, when the file is already there, reuses it instead of seeding
 * again (a 10M-event log takes a long while to seed on a loaded machine); each run adds its traffic to it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer } from '../src/start.ts';
import { macOf, seedLog } from './soak-seed.ts';

/**
 * Event-loop stalls as a timer sees them, with the CPU time the whole process (every thread) used meanwhile:
 * on a machine with more runnable work than cores, a stall with little CPU in it is this process waiting for a
 * core, not code holding the loop. monitorEventLoopDelay alone cannot tell the two apart.
 */
function stallRecorder(everyMs = 5) {
  const stalls: { wallMs: number; cpuMs: number }[] = [];
  let last = performance.now();
  let cpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    const wallMs = now - last - everyMs;
    if (wallMs > 20) stalls.push({ wallMs, cpuMs: (used.user + used.system) / 1000 });
    last = now;
    cpu = process.cpuUsage();
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return stalls.sort((a, b) => b.wallMs - a.wallMs);
    },
  };
}
const describeStalls = (stalls: { wallMs: number; cpuMs: number }[]) =>
  stalls.length === 0
    ? 'none over 20 ms'
    : `${stalls.length} over 20 ms; largest ${stalls.slice(0, 3).map((s) => `${s.wallMs.toFixed(0)} ms (process CPU in it ${s.cpuMs.toFixed(0)} ms)`).join(', ')}`;

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : fallback;
}

const EVENTS = option('events', 2_000_000);
const MINUTES = option('minutes', 2);
const RATE = option('rate', 600);
const PHONES = 5000;
const DEEP = 20_000;
const ROOT = resolve(import.meta.dirname, '..');
const KEEP = process.argv.find((a) => a.startsWith('--db='))?.slice('--db='.length);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const dir = KEEP ? undefined : mkdtempSync(join(tmpdir(), 'actionurl-soak-'));
const file = KEEP ? resolve(KEEP) : join(dir!, 'soak.sqlite');
try {
  if (KEEP && existsSync(file)) {
    console.log(`reusing the log in ${file} (${mb(statSync(file).size)} on disk; --events is ignored)`);
  } else {
    console.log(`seeding ${EVENTS.toLocaleString('en')} events over ${PHONES} phones (phone ${macOf(0)}: ${DEEP.toLocaleString('en')} of them) …`);
    const seeded = await seedLog(file, EVENTS, PHONES, DEEP, Date.now() - 60_000);
    console.log(`seeded in ${seeded.seconds.toFixed(0)} s, ${mb(statSync(file).size)} on disk`);
  }

  const startedAt = performance.now();
  const server = await startServer({ db: file, port: 0, host: '127.0.0.1', logLevel: 'silent', stateFlushMs: 5000 });
  console.log(`receiver up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s with ${server.ctx.phones.size} phones; traffic ${RATE}/s for ${MINUTES} min (70% fleet, 20% broken phones opening calls that never end, 10% new MACs)`);

  const loop = monitorEventLoopDelay({ resolution: 2 });
  loop.enable();
  const trafficStalls = stallRecorder();
  const memory: string[] = [];
  const t0 = performance.now();
  const sample = () => memory.push(`${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s  rss ${mb(process.memoryUsage.rss()).padStart(7)}  heap ${mb(process.memoryUsage().heapUsed).padStart(7)}  phones ${server.ctx.phones.size}  open calls ${[...server.ctx.phones.values()].reduce((n, p) => n + p.calls.length, 0)}`);
  sample();
  const sampler = setInterval(sample, 10_000);
  const traffic = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/soak-traffic.ts'), String(server.port), String(RATE), String(MINUTES * 60)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  traffic.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise((r) => traffic.on('close', r));
  clearInterval(sampler);
  sample();
  loop.disable();
  const trafficStallList = trafficStalls.stop();
  const trafficBlockMs = loop.max / 1e6;
  const counts = JSON.parse(out.trim() || '{}') as { sent: number; ok: number; other: number; errors: number; unanswered: number };

  // API reads at the end, on the grown log, one after another, from a child process too; the loop delay during them.
  const reads = monitorEventLoopDelay({ resolution: 2 });
  reads.enable();
  const readStalls = stallRecorder();
  const reader = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/soak-reads.ts'), server.url, macOf(0)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let readOut = '';
  reader.stdout.on('data', (b: Buffer) => (readOut += b.toString()));
  await new Promise((r) => reader.on('close', r));
  const { results, deepPages, deepPagesMs, listed, pages: page, allMs } = JSON.parse(readOut.trim()) as {
    results: { name: string; status: number; median: number; max: number; bytes: number }[];
    deepPages: number; deepPagesMs: number; listed: number; pages: number; allMs: number;
  };
  reads.disable();
  const readStallList = readStalls.stop();
  await server.close();

  console.log('\nresident memory over time:');
  for (const line of memory) console.log(`  ${line}`);
  console.log(`\ntraffic: ${counts.sent} sent, ${counts.ok} answered 200, ${counts.other} other, ${counts.errors} errors, ${counts.unanswered} unanswered after a minute`);
  console.log(`largest event-loop block: ${trafficBlockMs.toFixed(1)} ms during the traffic (p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, p99.9 ${(loop.percentile(99.9) / 1e6).toFixed(1)} ms), ${(reads.max / 1e6).toFixed(1)} ms during the API reads (p99 ${(reads.percentile(99) / 1e6).toFixed(1)} ms)`);
  console.log(`stalls seen by a 5 ms timer: during the traffic ${describeStalls(trafficStallList)}; during the API reads ${describeStalls(readStallList)}`);
  // On a loaded machine the largest "block" may be this process waiting for a core, not running: the load says.
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  console.log('\nAPI on the grown log (5 runs each, brotli accepted):');
  for (const r of results) console.log(`  ${r.name.padEnd(36)} ${String(r.status).padEnd(4)} median ${r.median.toFixed(1).padStart(7)} ms  max ${r.max.toFixed(1).padStart(7)} ms  ${r.bytes.toLocaleString('en').padStart(9)} bytes`);
  console.log(`  ${deepPages} pages of 100 down phone ${macOf(0)}'s history with the cursor: ${deepPagesMs.toFixed(0)} ms`);
  console.log(`  all ${listed} phones in ${page} pages of 1000: ${allMs.toFixed(0)} ms`);
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
