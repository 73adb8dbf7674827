/**
 * The disk filling up: a SQLite database capped with max_page_count fails its writes with SQLITE_FULL, as on
 * a full disk. Phones get 503 with the reason, it is counted, the dashboard and API keep answering, the
 * health check says so, the receiver recovers by itself once there is space, and every event it acknowledged
 * is stored.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { startServer } from '../../src/start.ts';

describe('disk full', { timeout: 90_000 }, () => {
  test('503 with the reason while full, counted, healthz degraded, dashboard still served, recovers, nothing acknowledged lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-full-'));
    const file = join(dir, 'db.sqlite');
    const store = new SqliteStore(file);
    await store.ready();
    const server = await startServer({ store, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    const acknowledged: number[] = [];
    const send = async (seq: number) => {
      // A long display name, so the database grows quickly.
      const res = await fetch(`${server.url}/actionurl/incoming_call?mac=001565aabbcc&call_id=${seq}&display_remote=${'N'.repeat(2000)}&seq=${seq}`);
      const text = await res.text();
      if (res.status === 200) acknowledged.push(seq);
      return { status: res.status, text };
    };
    try {
      for (let seq = 0; seq < 10; seq++) assert.equal((await send(seq)).status, 200);
      const health = async () => {
        const res = await fetch(`${server.url}/healthz`);
        return { status: res.status, body: (await res.json()) as { status: string; error?: string } };
      };
      assert.deepEqual((await health()).body.status, 'ok');
      const reader = new Database(file, { readonly: true });
      const pages = reader.pragma('page_count', { simple: true }) as number;
      reader.close();
      assert.equal(await store.setMaxPageCount(pages + 8), pages + 8);

      let full: { status: number; text: string } | undefined;
      for (let seq = 10; seq < 400 && !full; seq++) {
        const r = await send(seq);
        if (r.status !== 200) full = r;
      }
      assert.ok(full, 'the capped database filled up');
      assert.equal(full.status, 503);
      assert.equal(full.text, 'the event could not be stored: the receiver\'s disk is full\n');
      // Still full: the next phone gets the same answer.
      assert.equal((await send(1000)).status, 503);

      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /^actionurl_store_full_total [1-9]\d*$/m);
      assert.match(metrics, /^actionurl_ingest_requests_total\{incident="incoming_call",result="disk_full"\} [1-9]\d*$/m);
      assert.equal((await fetch(`${server.url}/`)).status, 200, 'the dashboard is still served');
      // The health check tells a load balancer and an operator, with the reason.
      const whileFull = await health();
      assert.equal(whileFull.status, 503);
      assert.equal(whileFull.body.status, 'degraded');
      assert.match(whileFull.body.error ?? '', /^the disk is full: events are refused \(503\) since \d{4}-\d\d-\d\dT/);
      const events = await fetch(`${server.url}/api/v1/events?limit=5`);
      assert.equal(events.status, 200, 'and the API reads');

      // Space comes back: the receiver stores again without a restart.
      await store.setMaxPageCount(1_000_000);
      assert.equal((await send(2000)).status, 200);
      assert.equal((await send(2001)).status, 200);
      assert.deepEqual(await health(), { status: 200, body: { status: 'ok', store: 'sqlite', phones: 1 } }, 'healthy again');
    } finally {
      await server.close();
    }
    const db = new Database(file, { readonly: true });
    const stored = new Set((db.prepare("SELECT json_extract(extra, '$.seq') AS seq FROM events").all() as { seq: string }[]).map((r) => Number(r.seq)));
    db.close();
    rmSync(dir, { recursive: true, force: true });
    for (const seq of acknowledged) assert.ok(stored.has(seq), `acknowledged event ${seq} is stored`);
    assert.ok(acknowledged.includes(2001));
  });
});
