/**
 * Phone control settings in both stores (migration 5): stored, replaced, deleted, and kept across a reopen;
 * credentials stay the sealed bytes the server gave. PostgreSQL is the real server (a schema of its own per
 * run); on CI not reaching it fails the test instead of skipping it.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/store/open.ts';
import type { Store, StoredControl } from '../../src/store/types.ts';

const PG = process.env.ACTIONURL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const ON_CI = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';

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

describe('control settings in the stores', { timeout: 120_000 }, () => {
  test('SQLite file (writes through the writer thread)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionurl-ctl-store-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    await roundTrip(() => openStore(join(dir, 'db.sqlite')));
  });

  test('PostgreSQL', async (t) => {
    const admin = new pg.Client({ connectionString: PG });
    try {
      await admin.connect();
    } catch (err) {
      await admin.end().catch(() => {});
      if (ON_CI) throw err;
      t.skip(`PostgreSQL not reachable: ${(err as Error).message}`);
      return;
    }
    const schema = `au_ctl_${randomBytes(6).toString('hex')}`;
    try {
      await roundTrip(() => openStore(`${PG}?schema=${schema}`));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
