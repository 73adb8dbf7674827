/**
 * Two `actionurl serve` processes on one PostgreSQL; one is killed (SIGKILL) mid-run. Every event either of
 * them acknowledged is stored, and the survivor's state and stream carry them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServe, type ServeChild } from '../server/helpers/child.ts';
import { dbUrl, getJson, ingest, useClusterDatabase, waitUntil } from './fixture.ts';

const database = useClusterDatabase();

test('one of two receiver processes killed with SIGKILL under load: every acknowledged event is in PostgreSQL and known to the survivor', { timeout: 180_000 }, async () => {
  const schema = database.schema();
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-kill-'));
  const children: ServeChild[] = [];
  try {
    const db = dbUrl(schema);
    children.push(await spawnServe(['--db', db, '--journal', join(dir, 'a.sqlite')]));
    children.push(await spawnServe(['--db', db, '--journal', join(dir, 'b.sqlite')]));
    const [victim, survivor] = children;
    const acked: string[] = [];
    let sent = 0;
    const loops = Array.from({ length: 6 }, async (_, s) => {
      const mac = `00156511110${s}`;
      for (let i = 0; i < 60; i++) {
        const to = i % 2 === 0 ? victim : survivor;
        const status = await ingest(to.port, `/actionurl/${i % 2 ? 'dnd_off' : 'dnd_on'}?mac=${mac}&seq=${s}-${i}`);
        sent++;
        if (status === 200) acked.push(`${s}-${i}`);
      }
    });
    const killer = (async () => {
      await waitUntil('load is under way', () => sent >= 100);
      victim.child.kill('SIGKILL');
      await victim.exited;
    })();
    await Promise.all([...loops, killer]);
    assert.ok(acked.length > 180 && acked.length < 360, `some events went to the dead receiver (${acked.length} of 360 acknowledged)`);
    const res = await database.admin.query<{ seq: string; n: number }>(`SELECT extra->>'seq' AS seq, count(*)::int AS n FROM ${schema}.events GROUP BY 1`);
    const stored = new Map(res.rows.map((r) => [r.seq, r.n]));
    for (const seq of acked) assert.equal(stored.get(seq), 1, `acknowledged event ${seq} stored once`);
    // The survivor's phone states include the last stored event of each phone.
    const last = await database.admin.query<{ mac: string; id: number }>(`SELECT mac, max(id)::int AS id FROM ${schema}.events GROUP BY mac`);
    await waitUntil('the survivor followed every stored event', async () => {
      const phones = (await getJson(`${survivor.url}/api/v1/phones`)).phones as { mac: string; last_event_id: number }[];
      return last.rows.every((r) => phones.find((p) => p.mac === r.mac)?.last_event_id === r.id);
    });
  } finally {
    for (const c of children) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    rmSync(dir, { recursive: true, force: true });
  }
});
