/**
 * Several receivers on one PostgreSQL (docs/scale-out.md), same run, same load:
 *   1. ingest throughput of one receiver on SQLite, one receiver on PostgreSQL, and two receivers on one
 *      PostgreSQL sharing the load (closed loop, keep-alive connections, thousands of phones in call flows);
 *   2. stream delay across receivers: events sent to receiver A at a steady rate, timed from the request
 *      being sent to A until the event arrives on receiver B's /api/v1/stream (p50/p99), beside the time
 *      until A's own 200 (the part of the delay that is A's commit).
 * Receivers run as child processes (`actionurl serve`); PostgreSQL from ACTIONURL_BENCH_PG (default
 * postgres://postgres@127.0.0.1:5432/test), in schemas of their own that are dropped at the end.
 */
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { closedLoop, percentile, spawnListening, type LoadResult } from './ingest-load.ts';

const CONNECTIONS = 64;
const PHONES = 3000;
const WARMUP_MS = 1000;
const RUN_MS = 5000;
const STREAM_RATE = 50;
const STREAM_MS = 4000;

const BASE = process.env.ACTIONURL_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = resolve(import.meta.dirname, '..');
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const dir = mkdtempSync(join(tmpdir(), 'actionurl-bench-cluster-'));
const admin = new pg.Client({ connectionString: BASE });
await admin.connect();
const schemas = [1, 2].map(() => `au_bench_${randomBytes(5).toString('hex')}`);
const children: { stop(): Promise<void> }[] = [];

function dbUrl(schema: string): string {
  const u = new URL(BASE);
  u.searchParams.set('schema', schema);
  return u.toString();
}

async function serve(db: string, name: string) {
  const r = await spawnListening(
    [join(root, 'bin/actionurl.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--db', db, '--journal', join(dir, `${name}-journal.sqlite`), '--log-level', 'warn'],
    /listening on https?:\/\/[^\s]+:(\d+)/,
  );
  children.push(r);
  return r;
}

function merge(results: LoadResult[]): LoadResult {
  return {
    ok: results.reduce((n, r) => n + r.ok, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    seconds: Math.max(...results.map((r) => r.seconds)),
    latencies: results.flatMap((r) => r.latencies).sort((a, b) => a - b),
  };
}

function report(label: string, r: LoadResult): number {
  const rate = r.ok / r.seconds;
  console.log(
    `${label.padEnd(40)} ${fmt(rate).padStart(7)} events/s   p50 ${fmt(percentile(r.latencies, 50), 1).padStart(6)} ms   p99 ${fmt(percentile(r.latencies, 99), 1).padStart(6)} ms` +
      `${r.failed ? `   (${r.failed} not 200)` : ''}`,
  );
  return rate;
}

/** Load split over the ports, the same total connections. */
async function run(ports: number[], durationMs: number, offset: number): Promise<LoadResult> {
  const per = Math.floor(CONNECTIONS / ports.length);
  return merge(await Promise.all(ports.map((port, i) => closedLoop(port, { connections: per, phones: PHONES, durationMs, encode: false, offset: offset + i * 10_000_000 }))));
}

/** Events to `from` at a steady rate: ms from sending each to its 200 from `from` and to its arrival on `to`'s stream. */
async function streamDelay(from: number, to: number): Promise<{ acks: number[]; delays: number[]; missing: number }> {
  const sentAt = new Map<string, number>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const delays: number[] = [];
  const acks: number[] = [];
  const socket = net.connect(to, '127.0.0.1');
  socket.write('GET /api/v1/stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n');
  socket.setEncoding('utf8');
  let buf = '';
  socket.on('data', (chunk: string) => {
    buf += chunk;
    for (let end = buf.indexOf('\n\n'); end !== -1; end = buf.indexOf('\n\n')) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const key = /"probe":"(\d+)"/.exec(block)?.[1];
      const sent = key === undefined ? undefined : sentAt.get(key);
      if (sent !== undefined) delays.push(performance.now() - sent);
    }
  });
  await new Promise((r) => setTimeout(r, 300));
  const total = Math.floor((STREAM_RATE * STREAM_MS) / 1000);
  const sends: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / STREAM_RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sends.push(
      (async () => {
        const sent = performance.now();
        sentAt.set(String(i), sent);
        await new Promise<void>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port: from, agent, path: `/actionurl/dnd_on?mac=0015659${String(i % 100).padStart(5, '0')}&probe=${i}` }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
        });
        acks.push(performance.now() - sent);
      })(),
    );
  }
  await Promise.all(sends);
  await new Promise((r) => setTimeout(r, 2500));
  socket.destroy();
  agent.destroy();
  return { acks: acks.sort((a, b) => a - b), delays: delays.sort((a, b) => a - b), missing: total - delays.length };
}

try {
  const sqlite = await serve(join(dir, 'bench.sqlite'), 'sqlite');
  const single = await serve(dbUrl(schemas[0]), 'pg1');
  const a = await serve(dbUrl(schemas[1]), 'pg2a');
  const b = await serve(dbUrl(schemas[1]), 'pg2b');
  console.log(`load: ${CONNECTIONS} keep-alive connections in all, ${fmt(PHONES)} phones, ${RUN_MS / 1000} s per run after ${WARMUP_MS / 1000} s warm-up`);
  const setups: [string, number[]][] = [
    ['1 receiver, SQLite', [sqlite.port]],
    ['1 receiver, PostgreSQL', [single.port]],
    ['2 receivers, one PostgreSQL', [a.port, b.port]],
  ];
  for (const [, ports] of setups) await run(ports, WARMUP_MS, 0);
  const rates = new Map<string, number>();
  for (const [label, ports] of setups) rates.set(label, report(label, await run(ports, RUN_MS, 50_000_000)));
  const base = rates.get('1 receiver, SQLite')!;
  for (const [label, rate] of rates) console.log(`  ${label}: ${fmt(rate / base, 2)} × SQLite`);

  const { acks, delays, missing } = await streamDelay(a.port, b.port);
  const p = (v: number[], q: number) => `${fmt(percentile(v, q), 1)} ms`;
  console.log(`at ${STREAM_RATE} events/s to A: A's 200 after p50 ${p(acks, 50)}, p99 ${p(acks, 99)}`);
  console.log(
    `  on B's stream after p50 ${p(delays, 50)}, p99 ${p(delays, 99)}, max ${p(delays, 100)} ` +
      `(${delays.length} events${missing ? `, ${missing} NOT SEEN on B` : ''})`,
  );
  if (missing) process.exitCode = 1;
} finally {
  await Promise.all(children.map((c) => c.stop()));
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
