/**
 * Events read along the phones' chains (one phone, or a small group merged) answer exactly what a plain
 * filter over every event answers: same events, same order, same pages. Checked against a reference over the
 * written events for many combinations of filters, on an in-memory store (the same reads a reader thread
 * runs) and on a file one (through the reader threads).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { GROUP_WALK } from '../../src/store/sqlite-reads.ts';
import type { EventQuery, NewEvent, StoredEvent } from '../../src/store/types.ts';

const MACS = ['001565000001', '001565000002', '001565000003', '001565000004', '001565000005', '001565000006'];
const INCIDENTS = ['incoming_call', 'call_established', 'call_terminated', 'dnd_on'];

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let x = seed;
  return (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
}

async function written(store: SqliteStore): Promise<StoredEvent[]> {
  const rnd = random(7);
  const all: StoredEvent[] = [];
  let at = 1_000_000;
  for (let batch = 0; batch < 30; batch++) {
    const events: NewEvent[] = [];
    for (let i = 0; i < 20; i++) {
      // Phone 6 is mostly quiet: one event early, one late.
      const mac = rnd(50) === 0 ? MACS[5] : MACS[rnd(5)];
      at += rnd(3); // sometimes the same millisecond
      const callId = String(rnd(12));
      events.push({ receivedAt: at, mac, incident: INCIDENTS[rnd(4)], vars: { mac, call_id: callId }, extra: {}, rawTarget: Buffer.from('/'), sourceIp: '10.0.0.1' });
    }
    all.push(...(await store.write({ events, rejected: [] })));
  }
  return all;
}

function reference(all: readonly StoredEvent[], q: EventQuery): number[] {
  return all
    .filter((e) => (q.mac === undefined || e.mac === q.mac) && (q.macs === undefined || q.macs.includes(e.mac)))
    .filter((e) => (q.incident === undefined || e.incident === q.incident) && (q.callId === undefined || e.vars.call_id === q.callId))
    .filter((e) => (q.since === undefined || e.receivedAt >= q.since) && (q.until === undefined || e.receivedAt < q.until))
    .filter((e) => q.before === undefined || e.id < q.before)
    .map((e) => e.id)
    .sort((a, b) => b - a)
    .slice(0, q.limit);
}

function queries(all: readonly StoredEvent[]): EventQuery[] {
  const rnd = random(11);
  const first = all[0].receivedAt;
  const last = all[all.length - 1].receivedAt;
  const big = [...MACS.slice(0, 2), ...Array.from({ length: GROUP_WALK }, (_, i) => `0015660${String(i).padStart(5, '0')}`)];
  const out: EventQuery[] = [];
  for (let i = 0; i < 300; i++) {
    const q: EventQuery = { limit: 1 + rnd(40) };
    const who = rnd(5);
    if (who === 0) q.mac = MACS[rnd(6)];
    if (who === 1) q.macs = [MACS[rnd(6)], MACS[rnd(6)], MACS[5]];
    if (who === 2) q.macs = big;
    if (who === 3) {
      q.mac = MACS[rnd(6)];
      q.macs = [MACS[rnd(6)], MACS[rnd(6)]];
    }
    if (rnd(3) === 0) q.incident = INCIDENTS[rnd(4)];
    if (rnd(6) === 0) q.callId = String(rnd(12));
    if (rnd(3) === 0) q.since = first + rnd(last - first + 1);
    if (rnd(3) === 0) q.until = first + rnd(last - first + 1);
    if (rnd(3) === 0) q.before = all[rnd(all.length)].id + rnd(2);
    out.push(q);
  }
  return out;
}

async function check(store: SqliteStore): Promise<void> {
  const all = await written(store);
  let found = 0;
  for (const q of queries(all)) {
    const expected = reference(all, q);
    if (expected.length > 0) found++;
    assert.deepEqual((await store.events(q)).map((e) => e.id), expected, JSON.stringify({ ...q, macs: q.macs?.length }));
  }
  assert.ok(found > 100, `most queries find something: ${found} of 300`);
  // Paging with the cursor: every page follows on from the one before, to the end.
  for (const base of [{ mac: MACS[0] }, { macs: [MACS[1], MACS[5]] }, { macs: MACS.slice(0, 3), incident: 'dnd_on' }] as Partial<EventQuery>[]) {
    const seen: number[] = [];
    let before: number | undefined;
    for (let page = 0; page < 1000; page++) {
      const events = await store.events({ ...base, before, limit: 7 });
      seen.push(...events.map((e) => e.id));
      if (events.length < 7) break;
      before = events[events.length - 1].id;
    }
    assert.deepEqual(seen, reference(all, { ...base, limit: all.length }), JSON.stringify(base));
  }
}

describe('events along the phones\' chains', { timeout: 120_000 }, () => {
  test('one phone or a small group: the same events, order and pages as a plain filter (in memory)', async () => {
    const store = new SqliteStore(':memory:');
    try {
      await check(store);
    } finally {
      await store.close();
    }
  });

  test('the same through the reader threads (a file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-chains-'));
    const store = new SqliteStore(join(dir, 'db.sqlite'));
    try {
      await check(store);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
