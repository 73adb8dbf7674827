/**
 * PostgreSQL away under load: a receiver keeps answering 200 from its local journal and moves the journal
 * into PostgreSQL, in order, once it is back; every acknowledged event ends up there exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/start.ts';
import { dbUrl, ingest, startProxy, startReceivers, useClusterDatabase, waitUntil } from './fixture.ts';

const database = useClusterDatabase();

/** `senders` loops, each sending `perSender` events of its own phone in order; returns the acknowledged seq numbers. */
async function load(port: () => number, senders: number, perSender: number, during: (sent: () => number) => Promise<void>) {
  const acked: string[] = [];
  const refused: string[] = [];
  let sent = 0;
  const loops = Array.from({ length: senders }, async (_, s) => {
    const mac = `0015650000${String(s).padStart(2, '0')}`;
    for (let i = 0; i < perSender; i++) {
      const seq = `${s}-${i}`;
      const incident = i % 2 === 0 ? 'incoming_call' : 'call_terminated';
      const status = await ingest(port(), `/actionurl/${incident}?mac=${mac}&call_id=${Math.floor(i / 2)}&seq=${seq}`);
      sent++;
      (status === 200 ? acked : refused).push(`${seq}:${status}`);
    }
  });
  await Promise.all([...loops, during(() => sent)]);
  return { acked: acked.map((a) => a.split(':')[0]), refused };
}

async function storedSeqs(schema: string): Promise<Map<string, number>> {
  const res = await database.admin.query<{ seq: string; n: number }>(`SELECT extra->>'seq' AS seq, count(*)::int AS n FROM ${schema}.events GROUP BY 1`);
  return new Map(res.rows.map((r) => [r.seq, r.n]));
}

/** Per phone, the seq numbers in id order: each phone's events must be in the order they were sent. */
async function orderPerPhone(schema: string): Promise<Map<string, number[]>> {
  const res = await database.admin.query<{ mac: string; seq: string }>(`SELECT mac, extra->>'seq' AS seq FROM ${schema}.events ORDER BY id`);
  const out = new Map<string, number[]>();
  for (const r of res.rows) out.set(r.mac, [...(out.get(r.mac) ?? []), Number(r.seq.split('-')[1])]);
  return out;
}

test('PostgreSQL cut off under load (every connection closed, new ones refused for 2 s): nothing acknowledged is lost or stored twice', { timeout: 120_000 }, async () => {
  const schema = database.schema();
  const proxy = await startProxy();
  const cluster = await startReceivers(1, dbUrl(schema, proxy.port));
  const server = cluster.servers[0];
  let journalledMax = 0;
  try {
    const { acked, refused } = await load(() => server.port, 6, 80, async (sent) => {
      await waitUntil('some events were sent', () => sent() >= 60);
      proxy.cut();
      // The outage lasts 2 s under load (its length is the point), sampling the journal meanwhile.
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        journalledMax = Math.max(journalledMax, server.ctx.store.shared!.journalled);
        await new Promise((r) => setTimeout(r, 20));
      }
      // A load balancer's health check keeps this receiver in: it still accepts events.
      const health = await fetch(`${server.url}/healthz`);
      const body = (await health.json()) as { status: string; journalled: number };
      assert.equal(health.status, 200);
      assert.equal(body.status, 'degraded');
      assert.ok(body.journalled > 0);
      assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^actionurl_journal_batches [1-9]/m);
      proxy.restore();
    });
    // The outage really happened, and phones were answered throughout.
    assert.ok(journalledMax > 0, 'events were journalled while PostgreSQL was away');
    assert.deepEqual(refused, []);
    assert.equal(acked.length, 480);
    await waitUntil('the journal is moved in', () => server.ctx.store.shared!.journalled === 0);
    const stored = await storedSeqs(schema);
    for (const seq of acked) assert.equal(stored.get(seq), 1, `event ${seq} stored once`);
    assert.equal(stored.size, acked.length);
    for (const [mac, seqs] of await orderPerPhone(schema)) {
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${mac}'s events in the order sent`);
    }
    // The phone state was derived from all of them: every call ended (an even count per phone).
    const phones = await database.admin.query<{ open: number }>(`SELECT json_array_length(state->'calls') AS open FROM ${schema}.phones`);
    assert.equal(phones.rows.length, 6);
    assert.ok(phones.rows.every((p) => p.open === 0));
  } finally {
    await cluster.close();
    await proxy.close();
  }
});

test('the receivers\' PostgreSQL connections terminated (pg_terminate_backend) under load: the receiver stays up, every acknowledged event is stored once', { timeout: 120_000 }, async () => {
  const schema = database.schema();
  const app = `au_${schema}`;
  const cluster = await startReceivers(2, dbUrl(schema, undefined, app));
  const [a, b] = cluster.servers;
  let terminated = 0;
  try {
    const { acked, refused } = await load((() => { let n = 0; return () => (n++ % 2 ? a.port : b.port); })(), 6, 60, async (sent) => {
      for (const at of [60, 160, 260]) {
        await waitUntil(`${at} events were sent`, () => sent() >= at);
        const res = await database.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [app]);
        terminated += res.rowCount ?? 0;
      }
    });
    assert.ok(terminated >= 3, `connections were terminated (${terminated})`);
    assert.deepEqual(refused, []);
    await waitUntil('the journals are moved in', () => a.ctx.store.shared!.journalled === 0 && b.ctx.store.shared!.journalled === 0);
    const stored = await storedSeqs(schema);
    for (const seq of acked) assert.equal(stored.get(seq), 1, `event ${seq} stored once`);
    assert.equal(stored.size, acked.length);
    // Both receivers still answer, and still share state.
    assert.equal(await ingest(a.port, '/actionurl/dnd_on?mac=001565ffffff'), 200);
    await waitUntil('the other receiver knows the phone', async () => (await fetch(`${b.url}/api/v1/phones/001565ffffff`)).status === 200);
  } finally {
    await cluster.close();
  }
});

test('a receiver stopped while PostgreSQL is away keeps its journal; started again once PostgreSQL is back, it moves it in before listening', { timeout: 120_000 }, async () => {
  const schema = database.schema();
  const proxy = await startProxy();
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-journal-'));
  const journal = join(dir, 'journal.sqlite');
  try {
    const db = dbUrl(schema, proxy.port);
    const first = await startServer({ db, journal, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    proxy.cut();
    for (let i = 0; i < 20; i++) assert.equal(await ingest(first.port, `/actionurl/${i % 2 ? 'dnd_off' : 'dnd_on'}?mac=001565bbbb01&seq=j-${i}`), 200);
    await first.close();
    // A second receiver may not use the same journal file while it is open elsewhere.
    const holder = await startServer({ db: dbUrl(schema), journal: join(dir, 'other.sqlite'), port: 0, host: '127.0.0.1', logLevel: 'silent' });
    await assert.rejects(startServer({ db: dbUrl(schema), journal: join(dir, 'other.sqlite'), port: 0, host: '127.0.0.1', logLevel: 'silent' }), /in use by another receiver/);
    await holder.close();
    assert.equal((await storedSeqs(schema)).size, 0);
    proxy.restore();
    const second = await startServer({ db, journal, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      assert.equal(second.ctx.store.shared!.journalled, 0);
      const stored = await storedSeqs(schema);
      assert.equal(stored.size, 20);
      assert.deepEqual((await orderPerPhone(schema)).get('001565bbbb01'), Array.from({ length: 20 }, (_, i) => i));
      const phone = (await (await fetch(`${second.url}/api/v1/phones/001565bbbb01`)).json()) as { dnd: boolean };
      assert.equal(phone.dnd, false); // the last event was dnd_off
    } finally {
      await second.close();
    }
  } finally {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
