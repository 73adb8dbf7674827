/**
 * Reports benchmark: a year of calls of a 1,000-phone site, written straight into a SQLite store with the
 * real schema, then the report queries timed through the store and through the HTTP API.
 *
 * In the receiver a trigger on `calls` keeps the hour and day summaries as each call is stored. Writing a year
 * of calls through it takes minutes, so the bulk insert goes without it and the summaries are then built by
 * the same SQL the schema migration uses for calls stored before it (`statsBackfillSql`); what the trigger
 * costs per stored call is measured separately on a sample (rolled back).
 *
 * Goal (issue "Run it for real"): a report over a year answers in well under a second.
 *
 * Size: BENCH_PHONES (1000) phones × BENCH_DAYS (365) days × BENCH_CALLS (4) calls per phone and working day,
 * about a million calls. The summaries a report reads hold a row per phone, account, direction and day (or
 * hour) with calls, so more calls per day make the calls table larger but not the report's work. Events are not generated: reports never read them (a site's tens of millions of
 * events only make the file larger, not the summary tables the reports read).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite.ts';
import { statsBackfillSql } from '../src/store/call-stats.ts';
import { encodeCall } from '../src/store/sqlite-writes.ts';
import { startServer } from '../src/start.ts';
import type { CallState } from '../src/domain/types.ts';
import type { StatsQuery } from '../src/store/types.ts';

const PHONES = Number(process.env.BENCH_PHONES ?? 1000);
const DAYS = Number(process.env.BENCH_DAYS ?? 365);
const CALLS = Number(process.env.BENCH_CALLS ?? 4);
const SAMPLE = 5000;
const GROUP_SIZE = 50;
const DAY = 86_400_000;
const HOUR = 3_600_000;

const dir = mkdtempSync(join(tmpdir(), 'actionurl-bench-reports-'));
const file = join(dir, 'reports.sqlite');
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** A small seeded generator, so every run builds the same year. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const macOf = (i: number) => `0015650${i.toString(16).padStart(5, '0')}`;
const end = Date.UTC(2026, 10, 2);
const start = end - DAYS * DAY;

async function generate(): Promise<{ count: number; triggerMs: number; plainMs: number; backfillMs: number }> {
  // Open once through the store so the file has the real schema and migrations.
  await new SqliteStore(file, { worker: false }).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `INSERT INTO calls (mac, call_id, started_at, direction, remote, display_remote, local, answered_at, ended_at,
       outcome, ring_ms, talk_ms, state, last_event_id, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const random = prng(42);
  let count = 0;
  const oneDay = (dayStart: number, phones: number) => {
    for (let p = 0; p < phones; p++) {
      const mac = macOf(p);
      for (let c = 0; c < CALLS; c++) {
        const startedAt = dayStart + 8 * HOUR + Math.floor(random() * 10 * HOUR);
        const incoming = random() < 0.6;
        const answered = random() < 0.8;
        const ring = Math.floor(2000 + random() * 40_000);
        const outcome = answered ? 'answered' : incoming ? (random() < 0.8 ? 'missed' : 'rejected') : 'failed';
        const call: CallState = {
          callId: String(count),
          direction: incoming ? 'incoming' : 'outgoing',
          remote: `sip:${1000 + (count % 5000)}@pbx.example.com`,
          displayRemote: 'Caller',
          local: `sip:${2000 + p}@pbx.example.com`,
          phase: 'ended',
          outcome,
          muted: false,
          startedAt,
          answeredAt: answered ? startedAt + ring : null,
          endedAt: startedAt + ring + (answered ? Math.floor(random() * 600_000) : 0),
          lastEventId: count,
          endedBy: 'call_terminated',
        };
        insert.run(encodeCall(mac, call));
        count++;
      }
    }
  };
  // What the summary trigger costs: the same calls with and without it, each in a transaction rolled back.
  const sample = (): number => {
    const t = performance.now();
    db.exec('BEGIN');
    oneDay(start, Math.ceil(SAMPLE / CALLS));
    db.exec('ROLLBACK');
    return performance.now() - t;
  };
  const triggerMs = sample();
  const triggers = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'calls'").pluck().all() as string[];
  for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'calls'").pluck().all() as string[]) {
    db.exec(`DROP TRIGGER ${name}`);
  }
  const plainMs = sample();
  count = 0;
  const day = db.transaction((dayStart: number) => oneDay(dayStart, PHONES));
  for (let d = 0; d < DAYS; d++) {
    const dayStart = start + d * DAY;
    const weekday = new Date(dayStart).getUTCDay();
    if (weekday !== 0 && weekday !== 6) day(dayStart);
  }
  const t = performance.now();
  db.transaction(() => {
    db.exec(statsBackfillSql());
    for (const sql of triggers) db.exec(sql);
  })();
  const backfillMs = performance.now() - t;
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { count, triggerMs, plainMs, backfillMs };
}

async function time<T>(label: string, run: () => Promise<T>, runs = 5): Promise<number> {
  await run(); // warm the page cache
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`${label.padEnd(58)} median ${fmt(median, 1).padStart(7)} ms   worst ${fmt(times[times.length - 1], 1).padStart(7)} ms`);
  return median;
}

try {
  const t0 = performance.now();
  const g = await generate();
  const sampleCalls = Math.ceil(SAMPLE / CALLS) * CALLS;
  console.log(`generated ${fmt(g.count)} calls of ${fmt(PHONES)} phones over ${DAYS} days in ${fmt((performance.now() - t0) / 1000, 1)} s` +
    ` (summaries built in ${fmt(g.backfillMs / 1000, 1)} s); file ${fmt(statSync(file).size / 1e6)} MB`);
  console.log(`storing a call: ${fmt((g.plainMs * 1000) / sampleCalls)} µs without the summary trigger, ${fmt((g.triggerMs * 1000) / sampleCalls)} µs with it` +
    ` (${sampleCalls} calls; calls are stored by the state checkpoint, not on the ingest path)`);

  const store = new SqliteStore(file);
  await store.ready();
  const group = Array.from({ length: GROUP_SIZE }, (_, i) => macOf(i * 7));
  const year: StatsQuery = { from: start, to: end };
  // A month that starts and ends mid-day: whole days from the day table, the edges from the hour table.
  const month: StatsQuery = { from: end - 30 * DAY - 5 * HOUR, to: end - 3 * HOUR };
  const worst: number[] = [];
  worst.push(await time('store: per phone and account, a year, all phones', () => store.callStats(year)));
  worst.push(await time('store: a month with partial days at both ends', () => store.callStats(month)));
  worst.push(await time(`store: a year, a group of ${GROUP_SIZE} phones`, () => store.callStats({ ...year, macs: group })));
  worst.push(await time('store: heat map rows, a year, all phones', () => store.hourStats(year)));
  worst.push(await time(`store: heat map rows, a year, a group of ${GROUP_SIZE} phones`, () => store.hourStats({ ...year, macs: group })));

  const server = await startServer({ store, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  try {
    for (let i = 0; i < GROUP_SIZE; i++) server.ctx.inventory.set({ mac: group[i], name: `Phone ${i}`, location: '', groups: ['bench'] });
    const period = `from=${new Date(year.from).toISOString()}&to=${new Date(year.to).toISOString()}`;
    for (const path of ['phones', 'accounts', 'groups', 'heatmap']) {
      worst.push(await time(`HTTP: GET /api/v1/reports/${path} (a year)`, async () => {
        const res = await fetch(`${server.url}/api/v1/reports/${path}?${period}${path === 'heatmap' ? '&tz=Europe/Berlin' : ''}`);
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        await res.arrayBuffer();
      }));
    }
    worst.push(await time('HTTP: GET /api/v1/reports/phones?group=bench (a year)', async () => {
      await (await fetch(`${server.url}/api/v1/reports/phones?${period}&group=bench`)).arrayBuffer();
    }));
  } finally {
    await server.close();
  }
  const slowest = Math.max(...worst);
  console.log(`slowest median ${fmt(slowest, 1)} ms: ${slowest < 1000 ? 'met' : 'NOT met'} (goal: well under 1 s)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
