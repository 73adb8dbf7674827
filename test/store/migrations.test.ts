/**
 * Migration lists of both stores: a database remembers applied versions by number, so two migrations with one
 * number would leave one of them never applied, and a list out of order applies a fresh database's schema in
 * an order no upgraded database saw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIGRATIONS as SQLITE } from '../../src/store/sqlite-schema.ts';
import { MIGRATIONS as POSTGRES } from '../../src/store/pg-schema.ts';

for (const [store, list] of [['SQLite', SQLITE], ['PostgreSQL', POSTGRES]] as const) {
  test(`${store} migrations have distinct versions, in ascending order`, { timeout: 10_000 }, () => {
    const versions = list.map((m) => m.version);
    assert.equal(new Set(versions).size, versions.length, `duplicate version in ${versions.join(', ')}`);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b));
    assert.ok(list.every((m) => m.name.trim().length > 0));
  });
}
