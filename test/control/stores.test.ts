/**
 * Phone control settings (migration 5) and commands in both stores: stored, replaced, deleted, and kept across a reopen;
 * credentials stay the sealed bytes the server gave. PostgreSQL is the real server (a schema of its own per
 * run); on CI not reaching it fails the test instead of skipping it.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.ts';
import { connectOptionalAdmin, PG_BASE, testSchema } from '../store/pg-optional.ts';
import type { Store, StoredCommand, StoredControl } from '../../src/store/types.ts';

const PG = PG_BASE;

async function roundTrip(open: () => Promise<Store>): Promise<void> {
  const sealed = randomBytes(45);
  const row: StoredControl = { mac: '001565000001', url: 'http://10.0.0.42', vendor: 'yealink', credentials: sealed, updatedAt: 1_700_000_000_000 };
  let store = await open();
  await store.putControl(row);
  await store.putControl({ mac: '000413000002', url: null, vendor: null, credentials: null, updatedAt: 1 });
  await store.putControl({ ...row, url: 'https://10.0.0.43' });
  await store.close();
  store = await open();
  const rows = (await store.controlSettings()).sort((a, b) => a.mac.localeCompare(b.mac));
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], { mac: '000413000002', url: null, vendor: null, credentials: null, updatedAt: 1 });
  assert.equal(rows[1].url, 'https://10.0.0.43');
  assert.equal(rows[1].updatedAt, 1_700_000_000_000);
  assert.ok(Buffer.from(rows[1].credentials!).equals(sealed));
  await store.deleteControl('000413000002');
  assert.deepEqual((await store.controlSettings()).map((r) => r.mac), ['001565000001']);
  await store.close();
}

function cmd(id: string, over: Partial<StoredCommand> = {}): StoredCommand {
  return {
    id, mac: '001565000001', command: 'dial', number: '2001', keys: null, vendor: 'yealink', status: 'sent', reason: null,
    createdAt: 1_000, acceptedAt: null, finishedAt: null, confirmedBy: null, deadlineAt: 11_000, owner: 'A', ...over,
  };
}

/** Commands (migration 14 / PostgreSQL 8): stored, concluded once, abandoned, trimmed, pruned, kept across a reopen. */
async function commandsRoundTrip(open: () => Promise<Store>): Promise<void> {
  let store = await open();
  await store.putCommands([cmd('c1'), cmd('c2', { command: 'keys', number: null, keys: ['OK', 'F_HOLD'], mac: '000413000002', createdAt: 2_000, owner: 'B' })]);
  await store.putCommands([cmd('c1', { status: 'confirmed', acceptedAt: 1_100, finishedAt: 1_200, confirmedBy: { eventId: 7, incident: 'outgoing_call' } })]);
  // A later row for a concluded command changes nothing: the first conclusion wins (another receiver's sweep).
  await store.putCommands([cmd('c1', { status: 'failed', reason: 'late', finishedAt: 9_000 })]);
  await store.close();
  store = await open();
  assert.deepEqual(await store.command('c1'), cmd('c1', { status: 'confirmed', acceptedAt: 1_100, finishedAt: 1_200, confirmedBy: { eventId: 7, incident: 'outgoing_call' } }));
  assert.deepEqual((await store.command('c2'))?.keys, ['OK', 'F_HOLD']);
  assert.equal(await store.command('nope'), undefined);
  assert.deepEqual((await store.commands({ limit: 10 })).map((c) => c.id), ['c2', 'c1']);
  assert.deepEqual((await store.commands({ mac: '001565000001', limit: 10 })).map((c) => c.id), ['c1']);
  // Unfinished commands of other receiver processes: only those past the deadline, or all of them.
  await store.putCommands([cmd('c3', { owner: 'B', deadlineAt: 50_000, createdAt: 3_000 }), cmd('c4', { owner: 'A', createdAt: 4_000 })]);
  assert.equal(await store.abandonCommands({ notOwner: 'A', deadlineBefore: 20_000, reason: 'gone', now: 60_000 }), 1); // c2 (deadline 11 000)
  assert.equal((await store.command('c2'))?.status, 'failed');
  assert.equal((await store.command('c3'))?.status, 'sent');
  assert.equal(await store.abandonCommands({ notOwner: 'A', reason: 'gone', now: 60_000 }), 1); // c3
  assert.deepEqual(await store.command('c3'), cmd('c3', { owner: 'B', deadlineAt: 50_000, createdAt: 3_000, status: 'failed', reason: 'gone', finishedAt: 60_000 }));
  assert.equal((await store.command('c4'))?.status, 'sent'); // this process's own
  // Retention: finished commands older than the cutoff; the newest N.
  assert.equal(await store.prune(2_500, 100), 2); // c1, c2 (c4 is unfinished)
  assert.deepEqual((await store.commands({ limit: 10 })).map((c) => c.id), ['c4', 'c3']);
  await store.putCommands(Array.from({ length: 5 }, (_, i) => cmd(`n${i}`, { createdAt: 10_000 + i })));
  assert.equal(await store.trimCommands(3), 4);
  assert.deepEqual((await store.commands({ limit: 10 })).map((c) => c.id), ['n4', 'n3', 'n2']);
  await store.close();
}

describe('control settings in the stores', { timeout: 120_000 }, () => {
  test('SQLite file (writes through the writer thread)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-ctl-store-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    await roundTrip(() => openStore(join(dir, 'db.sqlite')));
    await commandsRoundTrip(() => openStore(join(dir, 'db.sqlite')));
  });

  test('PostgreSQL', async (t) => {
    const admin = await connectOptionalAdmin();
    if (!admin) {
      t.skip(`PostgreSQL not reachable at ${PG}`);
      return;
    }
    const schema = testSchema('au_ctl');
    try {
      await roundTrip(() => openStore(`${PG}?schema=${schema}`));
      await commandsRoundTrip(() => openStore(`${PG}?schema=${schema}`));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
