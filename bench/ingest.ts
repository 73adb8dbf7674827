/**
 * Ingest benchmark (quality targets in docs/receiver.md):
 *   1. throughput of `actionurl serve` (SQLite, synchronous=FULL, every 200 after its commit) beside a bare
 *      `node:http` server that answers 200 and does nothing, same load, same run, at 32 and at 128 clients:
 *      alternating rounds (serve first in odd rounds, bare first in even ones), each pair's ratio, then the
 *      minimum, median and maximum over the rounds; the ratio should be ≥ 0.5. Per round, read from the OS
 *      and from /metrics around the receiver's run: CPU per stored event on its main thread, its SQLite
 *      writer thread and all other threads; events per group commit and statements per write transaction;
 *      the phone-state checkpoint lag at the end of the run;
 *   2. latency at a steady 2,000 events/s: p99 should be under 20 ms;
 *   3. the receiver's own HTTP front against `node:http` behind a request-line shim (bench/ingest-shim.ts,
 *      a prototype kept for this comparison), same receiver otherwise, alternating runs, same load.
 * Both servers run as child processes; the load generator is this process (raw-socket keep-alive clients,
 * thousands of phones, call flows, display names with raw spaces and UTF-8). node:http refuses raw spaces
 * in the request line, so it gets the same requests percent-encoded.
 * Options: --rounds=N (5), --seconds=S per run (5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, fmt, paced, percentile, rateOf, ROOT, spawnListening, spawnServe, WARMUP_MS, type LoadResult } from './ingest-load.ts';
import { cpuBetween, threadTimes, type CpuSplit } from './ingest-threads.ts';
import { receiverCounts, type ReceiverCounts } from './ingest-metrics.ts';

const option = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

const CLIENTS = [32, 128];
const CONNECTIONS = 128;
const PHONES = 5000;
const ROUNDS = option('rounds', 5);
const RUN_MS = option('seconds', 5) * 1000;
const PACED_RATE = 2000;
const PACED_MS = 8000;

const ms = (n: number) => `${fmt(n, 2)} ms`;

function report(label: string, r: LoadResult): number {
  const rate = rateOf(r);
  console.log(
    `${label.padEnd(44)} ${fmt(rate).padStart(7)} req/s   p50 ${ms(percentile(r.latencies, 50)).padStart(9)}   p99 ${ms(percentile(r.latencies, 99)).padStart(9)}` +
      `${r.failed ? `   (${r.failed} not 200)` : ''}`,
  );
  return rate;
}

/** One round's figures: a row of the table. */
interface Round {
  rate: number;
  p50: number;
  p99: number;
  bareRate: number;
  ratio: number;
  /** µs of CPU per stored event. */
  main: number;
  writer: number;
  other: number;
  total: number;
  /** µs of the bare server's CPU (all threads) per request answered. */
  bare: number;
  eventsPerCommit: number;
  statementsPerTransaction: number;
  lag: number;
  failed: number;
}

/** The table's columns after the client count and round: each a figure of the round and its decimals. */
const COLUMNS: { head: string; width: number; digits: number; value(r: Round): number }[] = [
  { head: 'serve req/s', width: 11, digits: 0, value: (r) => r.rate },
  { head: 'p50 ms', width: 7, digits: 1, value: (r) => r.p50 },
  { head: 'p99 ms', width: 7, digits: 1, value: (r) => r.p99 },
  { head: 'bare req/s', width: 10, digits: 0, value: (r) => r.bareRate },
  { head: 'ratio', width: 5, digits: 2, value: (r) => r.ratio },
  { head: 'main µs', width: 7, digits: 1, value: (r) => r.main },
  { head: 'writer µs', width: 9, digits: 1, value: (r) => r.writer },
  { head: 'other µs', width: 8, digits: 1, value: (r) => r.other },
  { head: 'all µs', width: 6, digits: 1, value: (r) => r.total },
  { head: 'bare µs', width: 7, digits: 1, value: (r) => r.bare },
  { head: 'ev/commit', width: 9, digits: 1, value: (r) => r.eventsPerCommit },
  { head: 'stmt/tx', width: 7, digits: 1, value: (r) => r.statementsPerTransaction },
  { head: 'lag', width: 6, digits: 0, value: (r) => r.lag },
];
const row = (clients: string, round: string, cells: readonly string[]) =>
  `${clients.padStart(7)} ${round.padEnd(6)} ${cells.map((c, i) => c.padStart(COLUMNS[i].width)).join('  ')}`;
const cells = (of: (column: (typeof COLUMNS)[number]) => number) => COLUMNS.map((c) => fmt(of(c), c.digits));

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Per column, the minimum, median and maximum over the rounds. */
function spread(rounds: readonly Round[]): { label: string; cells: string[] }[] {
  const over = (f: (xs: number[]) => number) => cells((c) => f(rounds.map(c.value)));
  return [
    { label: 'min', cells: over((xs) => Math.min(...xs)) },
    { label: 'median', cells: over(median) },
    { label: 'max', cells: over((xs) => Math.max(...xs)) },
  ];
}

/** A closed-loop run with the process's thread CPU read around it (and, for the receiver, its metrics). */
async function measured<T>(pid: number, run: () => Promise<LoadResult>, counts: () => Promise<T>) {
  const countsBefore = await counts();
  const cpuBefore = threadTimes(pid);
  const result = await run();
  // CPU first: the scrape after the run is not part of it.
  const cpu = cpuBetween(pid, cpuBefore, threadTimes(pid));
  return { result, cpu, before: countsBefore, after: await counts() };
}

const perEvent = (ns: number, events: number) => ns / 1000 / events;

function roundOf(ours: { result: LoadResult; cpu: CpuSplit; before: ReceiverCounts; after: ReceiverCounts }, bare: { result: LoadResult; cpu: CpuSplit }): Round {
  const { before, after } = ours;
  const stored = after.stored - before.stored;
  const rate = rateOf(ours.result);
  const bareRate = rateOf(bare.result);
  return {
    rate,
    p50: percentile(ours.result.latencies, 50),
    p99: percentile(ours.result.latencies, 99),
    bareRate,
    ratio: rate / bareRate,
    main: perEvent(ours.cpu.main, stored),
    writer: perEvent(ours.cpu.writer, stored),
    other: perEvent(ours.cpu.other, stored),
    total: perEvent(ours.cpu.total, stored),
    bare: perEvent(bare.cpu.total, bare.result.ok),
    eventsPerCommit: (after.committedRequests - before.committedRequests) / (after.commits - before.commits),
    statementsPerTransaction: (after.statements - before.statements) / (after.transactions - before.transactions),
    lag: after.checkpointLag,
    failed: ours.result.failed + bare.result.failed,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'actionurl-bench-'));
const receiver = await spawnServe(join(dir, 'bench.sqlite'));
const bare = await spawnListening(['--import', 'tsx', join(ROOT, 'bench/ingest-bare.ts')], /listening (\d+)/);

try {
  console.log(
    `load: ${CLIENTS.join(' and ')} keep-alive clients, ${fmt(PHONES)} phones, ${ROUNDS} rounds of ${RUN_MS / 1000} s per server and client count ` +
      `(serve and bare alternating) after ${WARMUP_MS / 1000} s warm-up each`,
  );
  let offset = 0;
  const noCounts = async () => undefined;
  /** When the receiver's last run ended (the lag after it is printed at the end). */
  let lastLoadEnd = 0;
  const medians: string[] = [];
  console.log(row('clients', 'round', COLUMNS.map((c) => c.head)));
  for (const clients of CLIENTS) {
    const base = { connections: clients, phones: PHONES };
    offset += (await closedLoop(receiver.port, { ...base, durationMs: WARMUP_MS, encode: false, offset })).ok;
    await closedLoop(bare.port, { ...base, durationMs: WARMUP_MS, encode: true });
    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const runOurs = async () => {
        const m = await measured(receiver.child.pid!, () => closedLoop(receiver.port, { ...base, durationMs: RUN_MS, encode: false, offset }), () => receiverCounts(receiver.port));
        offset += m.result.ok + m.result.failed;
        lastLoadEnd = performance.now();
        return m;
      };
      const runBare = () => measured(bare.child.pid!, () => closedLoop(bare.port, { ...base, durationMs: RUN_MS, encode: true }), noCounts);
      let ours, bareRun;
      if (round % 2) {
        ours = await runOurs();
        bareRun = await runBare();
      } else {
        bareRun = await runBare();
        ours = await runOurs();
      }
      const r = roundOf(ours, bareRun);
      rounds.push(r);
      console.log(row(String(clients), String(round), cells((c) => c.value(r))) + (r.failed ? `  (${r.failed} not 200)` : ''));
    }
    for (const { label, cells } of spread(rounds)) console.log(row(String(clients), label, cells));
    const ratio = median(rounds.map((r) => r.ratio));
    medians.push(`${clients} clients ${fmt(ratio, 2)} (${ratio >= 0.5 ? 'met' : 'NOT met'})`);
  }
  console.log(
    'µs: CPU per stored event read from /proc/<pid>/task/<tid>/schedstat before and after the run: the receiver\'s main thread, its\n' +
      'SQLite writer thread (sqlite-writer), its other threads (GC helpers, reader threads, libuv pool) and all together; bare µs: the\n' +
      'bare server\'s CPU per request. ev/commit: events per group commit; stmt/tx: SQL statements per write transaction of the\n' +
      'SQLite writer (group commits and phone-state checkpoint chunks). lag: events stored after the last phone-state checkpoint, at\n' +
      'the end of the run (a checkpoint 5 s after a change, or once half the lag bound of events came in).',
  );
  console.log(`median throughput ratio receiver / bare (target ≥ 0.50): ${medians.join(', ')}`);
  let lag = (await receiverCounts(receiver.port)).checkpointLag;
  while (lag > 0 && performance.now() - lastLoadEnd < 30_000) {
    await new Promise((r) => setTimeout(r, 100));
    lag = (await receiverCounts(receiver.port)).checkpointLag;
  }
  console.log(`checkpoint lag after the receiver's last run: ${fmt(lag)} events ${fmt((performance.now() - lastLoadEnd) / 1000, 1)} s after it ended`);

  const steady = await paced(receiver.port, { connections: 64, phones: PHONES, durationMs: PACED_MS, encode: false, offset, rate: PACED_RATE });
  console.log('');
  report(`paced ${fmt(PACED_RATE)} events/s for ${PACED_MS / 1000} s`, steady);
  const p99 = percentile(steady.latencies, 99);
  console.log(
    `paced p99 ${ms(p99)}, max ${ms(steady.latencies[steady.latencies.length - 1])}  (target p99 < 20 ms: ${p99 < 20 ? 'met' : 'NOT met'})`,
  );
} finally {
  await Promise.all([receiver.stop(), bare.stop()]);
}

// The front comparison: both receivers started by the same script, one with the front swapped.
const FRONT_ROUNDS = 3;
const FRONT_RUN_MS = 4000;
const startFront = (front: 'ours' | 'shim') =>
  spawnListening(['--import', 'tsx', join(ROOT, 'bench/ingest-shim.ts'), join(dir, `front-${front}.sqlite`), front], /listening on https?:\/\/[^\s]+:(\d+)/);
const fronts = { ours: await startFront('ours'), shim: await startFront('shim') };
try {
  console.log(`\nHTTP front: own parser vs node:http behind the request-line shim, ${FRONT_ROUNDS} alternating rounds of ${FRONT_RUN_MS / 1000} s`);
  const base = { connections: CONNECTIONS, phones: PHONES, encode: false };
  const offsets = { ours: 0, shim: 0 };
  const rates = { ours: [] as number[], shim: [] as number[] };
  for (const front of ['ours', 'shim'] as const) offsets[front] += (await closedLoop(fronts[front].port, { ...base, durationMs: WARMUP_MS })).ok;
  for (let round = 1; round <= FRONT_ROUNDS; round++) {
    for (const front of ['ours', 'shim'] as const) {
      const r = await closedLoop(fronts[front].port, { ...base, durationMs: FRONT_RUN_MS, offset: offsets[front] });
      offsets[front] += r.ok + r.failed;
      rates[front].push(report(`round ${round}: ${front === 'ours' ? 'own HTTP front' : 'node:http + shim'}`, r));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratio = median(rates.shim) / median(rates.ours);
  console.log(`median req/s: own front ${fmt(median(rates.ours))}, node:http + shim ${fmt(median(rates.shim))}  (shim / own: ${fmt(ratio, 2)})`);
} finally {
  await Promise.all([fronts.ours.stop(), fronts.shim.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
