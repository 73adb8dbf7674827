/**
 * The SQLite store's reader threads: a slow query runs beside the receiver's work instead of in front of it,
 * closing the store answers the reads still in flight, and a reader thread that dies takes only its own
 * reads with it (the next read starts a new one).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { ReaderPool } from '../../src/store/sqlite-reader-pool.ts';
import { ThreadChannel } from '../../src/store/sqlite-thread.ts';
import { startServer } from '../../src/start.ts';

const BUSY = '001565000001';
const CRASH_WORKER = new URL('./helpers/crash-worker.ts', import.meta.url);

/**
 * A database whose one phone sent `rows` events (straight into SQLite, with the real schema and chain): big
 * enough that a query walking every row takes a while.
 */
async function seeded(dir: string, rows: number): Promise<string> {
  const file = join(dir, 'db.sqlite');
  await new SqliteStore(file).close();
  const db = new Database(file);
  db.exec(`
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
    INSERT INTO events (id, received_at, mac, incident, call_id, vars, extra, raw_target, source_ip, prev_id)
    SELECT i, 1700000000000 + i, '${BUSY}', 'registered', NULL, '{"mac":"${BUSY}"}', '{}', x'2f', '10.0.0.1', nullif(i - 1, 0) FROM n;
    INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ${rows});
  `);
  db.close();
  return file;
}

/** Observes a promise at once (so a rejection before the test looks is not "unhandled"); resolves with the error. */
const failure = (p: Promise<unknown>): Promise<Error | 'answered'> => p.then(() => 'answered' as const, (err: Error) => err);

describe('reader threads', { timeout: 180_000 }, () => {
  test('a slow read does not hold up ingest: phones keep getting 200 while it runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-readers-'));
    const store = new SqliteStore(await seeded(dir, 1_000_000));
    const server = await startServer({ store, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      // A filter the phone never matched: the read walks its whole chain, a million rows.
      let answered = false;
      const slow = fetch(`${server.url}/api/v1/events?mac=${BUSY}&incident=dnd_on&limit=100`).then(async (res) => {
        answered = true;
        return { status: res.status, body: (await res.json()) as { events: unknown[] } };
      });
      let acknowledged = 0;
      for (let seq = 0; !answered && seq < 10_000; seq++) {
        const res = await fetch(`${server.url}/actionurl/registered?mac=001565000003&seq=${seq}`);
        await res.text();
        if (res.status === 200 && !answered) acknowledged++;
      }
      const { status, body } = await slow;
      assert.equal(status, 200);
      assert.deepEqual(body.events, [], 'the read is right, too');
      // Read in the receiver's own thread, the walk would answer before any of these.
      assert.ok(acknowledged >= 3, `phones acknowledged while the slow read ran: ${acknowledged}`);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('closing the store while a read is in flight answers it with an error, without hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-readers-'));
    const store = new SqliteStore(await seeded(dir, 1_000_000));
    try {
      // Warm: the reader threads are up and have read once.
      assert.equal((await store.events({ limit: 1 }))[0].id, 1_000_000);
      // A filter the phone never matched: the read walks all million rows of its chain; it is in the reader
      // thread well before that is done.
      const inFlight = failure(store.events({ mac: BUSY, incident: 'dnd_on', limit: 10 }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await store.close();
      const err = await inFlight;
      assert.ok(err instanceof Error);
      assert.match(err.message, /the store is closed/);
      await assert.rejects(store.calls({ limit: 1 }), /the store is closed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reads through the threads give back what was written, bytes as Buffers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-readers-'));
    const store = new SqliteStore(join(dir, 'db.sqlite'));
    try {
      const raw = Buffer.from('/actionurl/registered?mac=001565aabbcc&display_remote=J\xf6rg', 'latin1');
      await store.write({
        events: [{ receivedAt: 1, mac: '001565aabbcc', incident: 'registered', vars: { mac: '001565aabbcc' }, extra: { x: '1' }, rawTarget: raw, sourceIp: '10.0.0.1' }],
        rejected: [{ receivedAt: 2, sourceIp: '10.0.0.2', status: 400, reason: 'no mac', rawTarget: Buffer.from([0xff, 0x00]), method: 'GET', count: 1 }],
      });
      const [event] = await store.events({ limit: 10 });
      assert.ok(Buffer.isBuffer(event.rawTarget));
      assert.deepEqual(event.rawTarget, raw);
      assert.deepEqual(event.extra, { x: '1' });
      const [replayed] = await store.eventsAfter(0, 10);
      assert.ok(Buffer.isBuffer(replayed.rawTarget));
      const [rejected] = await store.rejected({ limit: 10 });
      assert.ok(Buffer.isBuffer(rejected.rawTarget));
      assert.deepEqual(rejected.rawTarget, Buffer.from([0xff, 0x00]));
      assert.deepEqual(await store.counts(), { events: 1, phones: 0, calls: 0, rejected: 1 });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a reader thread that dies fails only its reads; the next read starts a new one', async () => {
    const pool = new ReaderPool('unused', 1, CRASH_WORKER);
    try {
      assert.deepEqual(await pool.run('counts', [1]), [1]);
      // @ts-expect-error: 'hang' and 'crash' are the misbehaving thread's own requests, not reads
      const hanging = failure(pool.run('hang', []));
      // @ts-expect-error: see above
      await assert.rejects(pool.run('crash', []), /reader crashed on purpose/);
      const err = await hanging;
      assert.ok(err instanceof Error, 'the other read in flight on that thread is answered too');
      assert.match(err.message, /reader crashed on purpose/);
      assert.deepEqual(await pool.run('counts', [2]), [2]);
    } finally {
      await pool.close();
    }
  });

  test('a thread that stops refuses what it had in flight and everything after', async () => {
    const channel = await ThreadChannel.start(CRASH_WORKER, {}, 'the test thread stopped');
    const hanging = failure(channel.call({ op: 'hang' }));
    assert.equal(channel.inFlight, 1);
    await channel.terminate(new Error('stopped by the test'));
    const err = await hanging;
    assert.ok(err instanceof Error);
    assert.match(err.message, /stopped by the test/);
    await assert.rejects(channel.call({ op: 'echo' }), /stopped by the test/);
    assert.equal(channel.alive, false);
  });
});
