/**
 * What a read costs through a reader thread against the same query on the calling thread, side by side on
 * one log: the message hop and the copy of the answer across threads. It decides which reads stay on the
 * receiver's thread (see src/store/sqlite.ts): those cheaper than the hop.
 *
 *   npm run bench -- reads [--db=/path/to/soak.sqlite]   (default: a fresh log of 200,000 events)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/store/sqlite.ts';
import { SqliteReads } from '../src/store/sqlite-reads.ts';
import { EVENT_COLUMNS } from '../src/store/event-rows.ts';
import { macOf, seedLog } from './soak-seed.ts';

const given = process.argv.find((a) => a.startsWith('--db='))?.slice('--db='.length);
const dir = given ? undefined : mkdtempSync(join(tmpdir(), 'actionurl-reads-'));
const file = given ?? join(dir!, 'reads.sqlite');
try {
  if (!given) await seedLog(file, 200_000, 5000, 2000, Date.now());
  const store = new SqliteStore(file);
  await store.ready();
  const db = new Database(file, { readonly: true });
  db.pragma('cache_size = -32768');
  const inline = new SqliteReads(db);
  const mac = macOf(0);
  const head = (db.prepare('SELECT last_event_id AS id FROM phones WHERE mac = ?').get(mac) as { id: number }).id;
  const last = (db.prepare('SELECT max(id) AS id FROM events').get() as { id: number }).id;
  const byId = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`);
  const ids = Array.from({ length: 10 }, (_, i) => last - 1000 - i * 37);
  const cases: [string, () => unknown, () => Promise<unknown>][] = [
    ['events, newest 1', () => inline.events({ limit: 1 }), () => store.events({ limit: 1 })],
    ['events, newest 100', () => inline.events({ limit: 100 }), () => store.events({ limit: 100 })],
    ['a phone\'s events, filtered', () => inline.events({ mac, incident: 'call_established', limit: 100 }, { [mac]: head }), () => store.events({ mac, incident: 'call_established', limit: 100 })],
    ['calls, newest 100', () => inline.calls({ limit: 100 }), () => store.calls({ limit: 100 })],
    ['10 events by id', () => ids.map((id) => byId.get(id)), () => store.eventsByIds(ids).then(() => undefined)],
  ];
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  console.log(`median of 50, after a warm-up round (load average ${loadavg()[0].toFixed(1)}):`);
  for (let round = 0; round < 2; round++) {
    for (const [name, here, there] of cases) {
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < 50; i++) {
        let t = performance.now();
        here();
        a.push(performance.now() - t);
        t = performance.now();
        await there();
        b.push(performance.now() - t);
      }
      if (round === 1) console.log(`  ${name.padEnd(28)} this thread ${median(a).toFixed(3)} ms   store ${median(b).toFixed(3)} ms`);
    }
  }
  console.log('  (the store answers "10 events by id" on its own thread: that figure is the inline cost plus the promise)');
  await store.close();
  db.close();
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
