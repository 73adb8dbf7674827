/**
 * A PostgreSQL that stops answering (frozen: SIGSTOP of the server and its backends, connections open,
 * nothing answers) is a database that is away: phones are answered from the local journal within the
 * database timeout instead of waiting for it, `/healthz` answers and says so, and everything acknowledged
 * moves in, once each, after the server goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startServer } from '../../src/start.ts';
import { ingest, waitUntil } from './fixture.ts';
import { startOwnPostgres } from './own-postgres.ts';

const own = await startOwnPostgres();

test('PostgreSQL frozen under load: every request answered from the journal while it is frozen, /healthz answers, nothing lost after it goes on', { timeout: 120_000, skip: own ? false : 'no PostgreSQL server binaries here' }, async () => {
  const pgServer = own!;
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-frozen-'));
  const db = `${pgServer.url}?schema=frozen`;
  const server = await startServer({ db, journal: join(dir, 'journal.sqlite'), port: 0, host: '127.0.0.1', logLevel: 'silent', dbTimeoutMs: 1000 });
  const acked: string[] = [];
  try {
    const send = async (phone: number, i: number) => {
      const seq = `${phone}-${i}`;
      const status = await ingest(server.port, `/actionurl/${i % 2 ? 'call_terminated' : 'incoming_call'}?mac=0015650001${String(phone).padStart(2, '0')}&call_id=${i >> 1}&seq=${seq}`);
      assert.equal(status, 200, `event ${seq}`);
      acked.push(seq);
    };
    for (let i = 0; i < 4; i++) await Promise.all([0, 1, 2, 3].map((p) => send(p, i)));

    pgServer.freeze();
    let thawed = false;
    try {
      // Four phones keep sending while the database is frozen. Each answer must come while it is still
      // frozen (it stays frozen until all are in), so none waited for the database to come back.
      for (let i = 4; i < 14; i++) await Promise.all([0, 1, 2, 3].map((p) => send(p, i)));
      const health = await fetch(`${server.url}/healthz`);
      const body = (await health.json()) as { status: string; journalled: number; error: string };
      assert.equal(health.status, 200, 'with a journal the receiver still takes events: a load balancer keeps sending them');
      assert.equal(body.status, 'degraded');
      assert.ok(body.journalled > 0, JSON.stringify(body));
      assert.match(body.error, /did not answer|timeout|reach/i);
      assert.equal(thawed, false);
    } finally {
      pgServer.thaw();
      thawed = true;
    }

    const check = new pg.Client({ connectionString: pgServer.url });
    await check.connect();
    try {
      await waitUntil('the journal moved into PostgreSQL', async () => server.ctx.store.shared!.journalled === 0, 60_000);
      const rows = (await check.query<{ seq: string; n: number }>(`SELECT extra->>'seq' AS seq, count(*)::int AS n FROM frozen.events GROUP BY 1`)).rows;
      const stored = new Map(rows.map((r) => [r.seq, r.n]));
      assert.deepEqual([...stored.keys()].sort(), [...acked].sort(), 'every acknowledged event is stored');
      assert.ok([...stored.values()].every((n) => n === 1), 'none stored twice');
    } finally {
      await check.end();
    }
    assert.equal(((await (await fetch(`${server.url}/healthz`)).json()) as { status: string }).status, 'ok');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    await pgServer.stop();
  }
});
