/**
 * What forwarding must remember across a restart of the receiver, against a real local webhook and the same
 * SQLite file each time: a destination switched off by 410 Gone stays off until an administrator switches it
 * on (API), and a phone that went silent while the receiver was stopped gets its phone.offline once, however
 * often the receiver restarts, even after retention deleted the delivery that carried it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { startTestReceiver, type TestReceiver } from '../server/helpers/receiver.ts';
import { startHookServer } from './helpers/hook-server.ts';
import { until } from './helpers/until.ts';
import { describeEachStore } from '../stores.ts';
import pg from 'pg';

const MAC = '001565d00d01';

interface DestinationJson {
  name: string;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function destination(r: TestReceiver, name = 'webhook1'): Promise<DestinationJson> {
  const body = (await r.api('/api/v1/destinations')).body as { destinations: DestinationJson[] };
  return body.destinations.find((d) => d.name === name)!;
}

/** Deletes the stored phone.offline deliveries of a stopped test receiver, in whichever store it runs on. */
async function deleteOfflineDeliveries(r: TestReceiver): Promise<number> {
  const sql = "DELETE FROM deliveries WHERE type = 'phone.offline'";
  if (r.store === 'sqlite') {
    const db = new Database(r.db);
    try {
      return db.prepare(sql).run().changes;
    } finally {
      db.close();
    }
  }
  const url = new URL(r.db);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(sql.replace('FROM deliveries', `FROM ${schema}.deliveries`))).rowCount ?? 0;
  } finally {
    await client.end();
  }
}

describeEachStore('forwarding across restarts', { timeout: 240_000 }, (store) => {
  test('410 Gone keeps a destination switched off across restarts until it is switched on again', { timeout: 60_000 }, async () => {
    let gone = true;
    const hook = await startHookServer(() => ({ status: gone ? 410 : 200 }));
    const options = { forwarding: { schedule: [0, 30, 30], recordEveryMs: 10 } };
    let r = await startTestReceiver({ storeKind: store, ...options, webhook: [hook.url] });
    const dir = r.dir;
    try {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC}&seq=1`);
      const off = await until('switched off', async () => {
        const d = await destination(r);
        return d.enabled ? undefined : d;
      });
      assert.match(off.disabled_reason!, /410/);
      assert.ok(off.disabled_at && Math.abs(Date.parse(off.disabled_at) - Date.now()) < 10_000, `disabled_at ${off.disabled_at}`);
      await sleep(200);
      const seen = hook.received.length;

      await r.stop();
      r = await startTestReceiver({ storeKind: store, ...options, webhook: [hook.url] }, dir);
      const after = await destination(r);
      assert.equal(after.enabled, false, 'still switched off after the restart');
      assert.equal(after.disabled_reason, off.disabled_reason);
      assert.equal(after.disabled_at, off.disabled_at);
      await r.ingest(`/actionurl/dnd_off?mac=${MAC}&seq=2`);
      await sleep(300);
      assert.equal(hook.received.length, seen, 'nothing sent to a switched-off destination after the restart');
      const rows = (await r.api('/api/v1/deliveries')).body as { deliveries: { type: string; state: string }[] };
      assert.ok(rows.deliveries.some((d) => d.type === 'phone.dnd_on' && d.state === 'dead'));
      assert.deepEqual(rows.deliveries.filter((d) => d.state !== 'dead'), [], 'nothing queued for it');
      assert.ok(!rows.deliveries.some((d) => d.type === 'phone.dnd_off'), 'no row for the event taken while it was off');

      // The administrator fixed the far end and switches it on; unknown names are a 404, never a crash.
      gone = false;
      const unknown = await r.api('/api/v1/destinations/%3Cb%3Enope%3C%2Fb%3E/enable', { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      assert.equal(unknown.status, 404);
      assert.match(unknown.headers.get('content-type') ?? '', /application\/json/);
      const on = await r.api('/api/v1/destinations/webhook1/enable', { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      assert.equal(on.status, 200);
      assert.equal((on.body as DestinationJson).enabled, true);
      assert.equal((on.body as DestinationJson).disabled_at, null);
      await r.ingest(`/actionurl/dnd_on?mac=${MAC}&seq=3`);
      const sent = await hook.waitForMatch((x) => x.json.type === 'phone.dnd_on' && (x.json.data as { event: { extra: { seq: string } } }).event.extra.seq === '3');
      assert.equal(sent.json.type, 'phone.dnd_on');
      const again = await r.api('/api/v1/destinations/webhook1/enable', { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      assert.equal(again.status, 200, 'switching on one that is on does nothing');

      await r.stop();
      r = await startTestReceiver({ storeKind: store, ...options, webhook: [hook.url] }, dir);
      assert.equal((await destination(r)).enabled, true, 'still switched on after another restart');
      await r.ingest(`/actionurl/dnd_off?mac=${MAC}&seq=4`);
      await hook.waitForMatch((x) => x.json.type === 'phone.dnd_off');
      // The delivery dead from the switch-off stayed dead: it is the administrator's to retry.
      const dead = (await r.api('/api/v1/deliveries?state=dead')).body as { deliveries: { type: string }[] };
      assert.ok(dead.deliveries.some((d) => d.type === 'phone.dnd_on'));
    } finally {
      await r.stop();
      await hook.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a switch-off holds for the URL that answered 410: given another URL, the destination is on at the next start', { timeout: 60_000 }, async () => {
    const gone = await startHookServer(() => ({ status: 410 }));
    const fixed = await startHookServer();
    const options = { forwarding: { schedule: [0, 30, 30], recordEveryMs: 10 } };
    let r = await startTestReceiver({ storeKind: store, ...options, webhook: [gone.url] });
    const dir = r.dir;
    try {
      await r.ingest(`/actionurl/dnd_on?mac=${MAC}`);
      await until('switched off', async () => !(await destination(r)).enabled);
      await r.stop();
      r = await startTestReceiver({ storeKind: store, ...options, webhook: [`${fixed.url}/moved`] }, dir);
      assert.equal((await destination(r)).enabled, true);
      await r.ingest(`/actionurl/dnd_off?mac=${MAC}`);
      await fixed.waitForMatch((x) => x.json.type === 'phone.dnd_off');
      await r.stop();
      // Back to the address that answered 410: the switch-off was dropped with the change, not kept aside.
      r = await startTestReceiver({ storeKind: store, ...options, webhook: [gone.url] }, dir);
      assert.equal((await destination(r)).enabled, true);
    } finally {
      await r.stop();
      await gone.close();
      await fixed.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a phone gone silent while the receiver was stopped: one phone.offline after the restart, none after the next ones', { timeout: 60_000 }, async () => {
    const hook = await startHookServer();
    const OFFLINE_MS = 2500;
    const options = { webhook: [hook.url], offlineAfterMs: OFFLINE_MS, forwarding: { schedule: [0, 50], recordEveryMs: 10, sweepEveryMs: 100 } };
    const offlines = () => hook.received.filter((x) => x.json.type === 'phone.offline' && (x.json.data as { mac: string }).mac === MAC);
    let r = await startTestReceiver({ storeKind: store, ...options });
    const dir = r.dir;
    try {
      const sentAt = Date.now();
      assert.equal((await r.ingest(`/actionurl/registered?mac=${MAC}&ip=10.0.0.7`)).status, 200);
      // Stopped before the phone's offline moment; the moment passes while nothing runs.
      await r.stop();
      assert.ok(Date.now() - sentAt < OFFLINE_MS, 'the receiver stopped before the phone counted as offline (machine too slow for this test)');
      await sleep(OFFLINE_MS - (Date.now() - sentAt) + 300);
      assert.equal(offlines().length, 0);

      r = await startTestReceiver({ storeKind: store, ...options }, dir);
      const offline = await hook.waitForMatch((x) => x.json.type === 'phone.offline');
      const data = offline.json.data as { mac: string; last_seen: string };
      assert.equal(data.mac, MAC);
      assert.ok(Math.abs(Date.parse(data.last_seen) - sentAt) < 1000, `last_seen ${data.last_seen}`);
      await sleep(500);
      assert.equal(offlines().length, 1, 'one phone.offline after the restart');

      for (const round of ['restarted again', 'restarted after retention deleted the delivery']) {
        await r.stop();
        if (round.includes('retention')) {
          // What --retention does to old delivered rows: the dedupe key that stored it once is gone with it.
          assert.ok((await deleteOfflineDeliveries(r)) >= 1);
        }
        r = await startTestReceiver({ storeKind: store, ...options }, dir);
        await sleep(800); // eight sweeps
        assert.equal(offlines().length, 1, `no second phone.offline (${round})`);
      }
    } finally {
      await r.stop();
      await hook.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the first start with forwarding does not announce phones that went silent long before', { timeout: 30_000 }, async () => {
    const hook = await startHookServer();
    const OFFLINE_MS = 300;
    let r = await startTestReceiver({ storeKind: store, offlineAfterMs: OFFLINE_MS });
    const dir = r.dir;
    try {
      await r.ingest(`/actionurl/registered?mac=${MAC}`);
      await r.stop();
      await sleep(OFFLINE_MS + 200);
      r = await startTestReceiver({ storeKind: store, webhook: [hook.url], offlineAfterMs: OFFLINE_MS, forwarding: { schedule: [0, 50], recordEveryMs: 10, sweepEveryMs: 50 } }, dir);
      // A phone that sends again and then goes silent is announced: the sweep itself works.
      const other = '001565d00d02';
      await r.ingest(`/actionurl/registered?mac=${other}`);
      await hook.waitForMatch((x) => x.json.type === 'phone.offline' && (x.json.data as { mac: string }).mac === other);
      assert.deepEqual(
        hook.received.filter((x) => x.json.type === 'phone.offline').map((x) => (x.json.data as { mac: string }).mac),
        [other],
      );
    } finally {
      await r.stop();
      await hook.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
