/**
 * Ingest benchmark (quality targets in docs/receiver.md):
 *   1. throughput of `actionurl serve` (SQLite, synchronous=FULL, every 200 after its commit) beside a bare
 *      `node:http` server that answers 200 and does nothing, same load, same run: the ratio should be ≥ 0.5;
 *   2. latency at a steady 2,000 events/s: p99 should be under 20 ms;
 *   3. the receiver's own HTTP front against `node:http` behind a request-line shim (bench/ingest-shim.ts,
 *      a prototype kept for this comparison), same receiver otherwise, alternating runs, same load.
 * Both servers run as child processes; the load generator is this process (raw-socket keep-alive clients,
 * thousands of phones, call flows, display names with raw spaces and UTF-8). node:http refuses raw spaces
 * in the request line, so it gets the same requests percent-encoded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, fmt, paced, percentile, rateOf, ROOT, spawnListening, spawnServe, WARMUP_MS, type LoadResult } from './ingest-load.ts';

const CONNECTIONS = 128;
const PHONES = 5000;
const RUN_MS = 8000;
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

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

const dir = mkdtempSync(join(tmpdir(), 'actionurl-bench-'));
const receiver = await spawnServe(join(dir, 'bench.sqlite'));
const bare = await spawnListening(['--import', 'tsx', join(ROOT, 'bench/ingest-bare.ts')], /listening (\d+)/);

try {
  console.log(`load: ${CONNECTIONS} keep-alive connections, ${fmt(PHONES)} phones, ${RUN_MS / 1000} s per run after ${WARMUP_MS / 1000} s warm-up`);
  let offset = 0;
  const base = { connections: CONNECTIONS, phones: PHONES };

  offset += (await closedLoop(receiver.port, { ...base, durationMs: WARMUP_MS, encode: false, offset })).ok;
  await closedLoop(bare.port, { ...base, durationMs: WARMUP_MS, encode: true });
  const before = await scrape(receiver.port);
  const ours = await closedLoop(receiver.port, { ...base, durationMs: RUN_MS, encode: false, offset });
  offset += ours.ok + ours.failed;
  const after = await scrape(receiver.port);
  const bareResult = await closedLoop(bare.port, { ...base, durationMs: RUN_MS, encode: true });

  const oursRate = report('actionurl serve (SQLite, commit before 200)', ours);
  const bareRate = report('bare node:http (answers 200, does nothing)', bareResult);
  const ratio = oursRate / bareRate;
  console.log(`throughput ratio receiver / bare: ${fmt(ratio, 2)}  (target ≥ 0.50: ${ratio >= 0.5 ? 'met' : 'NOT met'})`);
  const commits = metric(after, 'actionurl_commit_batch_size_count') - metric(before, 'actionurl_commit_batch_size_count');
  const batched = metric(after, 'actionurl_commit_batch_size_sum') - metric(before, 'actionurl_commit_batch_size_sum');
  const commitSeconds = metric(after, 'actionurl_commit_duration_seconds_sum') - metric(before, 'actionurl_commit_duration_seconds_sum');
  console.log(
    `group commit: ${fmt(commits)} transactions, ${fmt(batched / commits, 1)} events each on average, ${ms((commitSeconds / commits) * 1000)} per transaction`,
  );

  const steady = await paced(receiver.port, { ...base, durationMs: PACED_MS, encode: false, offset, rate: PACED_RATE, connections: 64 });
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
