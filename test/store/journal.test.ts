/**
 * The local journal (an SQLite file) and the rule for which PostgreSQL errors send a batch to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/store/journal.ts';
import { isConnectionError } from '../../src/store/pg-ingest.ts';
import type { NewEvent } from '../../src/store/types.ts';

const event = (n: number): NewEvent => ({
  receivedAt: n,
  mac: '001565000001',
  incident: 'dnd_on',
  vars: { display_remote: 'Jörg\u0000 Müller' },
  extra: { seq: String(n) },
  rawTarget: Buffer.from([0x2f, 0xff, 0x00, 0x20, n]),
  sourceIp: '10.0.0.1',
});

test('journalled batches survive closing the file, come back oldest first and byte for byte, and go once forgotten', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-journal-unit-'));
  try {
    const path = join(dir, 'sub', 'journal.sqlite');
    const first = new Journal(path);
    const origin = first.origin;
    first.append(7, { events: [event(1), event(2)], rejected: [] });
    first.append(8, { events: [event(3)], rejected: [{ receivedAt: 4, sourceIp: '10.0.0.2', status: 400, reason: 'missing mac', rawTarget: Buffer.from('/x'), method: 'GET', count: 1 }] });
    assert.equal(first.size, 2);
    first.close();

    const again = new Journal(path);
    try {
      assert.equal(again.origin, origin, 'the origin is kept with the file');
      assert.equal(again.size, 2);
      assert.equal(again.lastSeq(), 8);
      const [a, b] = again.oldest(10);
      assert.equal(a.seq, 7);
      assert.deepEqual(a.events, [event(1), event(2)]);
      assert.equal(b.rejected[0].reason, 'missing mac');
      assert.deepEqual(b.rejected[0].rawTarget, Buffer.from('/x'));
      again.forget(7);
      assert.deepEqual(again.oldest(10).map((x) => x.seq), [8]);
      again.forget(8);
      assert.equal(again.size, 0);
      // Open elsewhere: refused with a sentence that says what to do.
      assert.throws(() => new Journal(path), /in use by another receiver; give each receiver its own --journal file/);
    } finally {
      again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only "PostgreSQL cannot be reached" errors send a batch to the journal, not errors about the batch', { timeout: 10_000 }, () => {
  const reachable = [
    { code: '57P01', message: 'terminating connection due to administrator command' },
    { code: '57P03', message: 'the database system is starting up' },
    { code: '08006', message: 'connection failure' },
    { code: '53300', message: 'too many clients already' },
    { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' },
    { code: 'ECONNRESET', message: 'read ECONNRESET' },
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('Query read timeout'),
  ];
  for (const err of reachable) assert.equal(isConnectionError(err), true, JSON.stringify(err) || String(err));
  const content = [
    { code: '23505', message: 'duplicate key value violates unique constraint' },
    { code: '22P02', message: 'invalid input syntax for type json' },
    { code: '42P01', message: 'relation "events" does not exist' },
    { code: 'ENOSPC', message: 'no space left on device' },
    new Error('bind message supplies 3 parameters'),
    null,
    undefined,
    'a string',
  ];
  for (const err of content) assert.equal(isConnectionError(err), false, JSON.stringify(err) ?? String(err));
});
