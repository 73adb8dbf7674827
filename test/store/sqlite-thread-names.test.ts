/**
 * The SQLite store's threads carry names the operating system shows (`top -H`, `ps -L`,
 * /proc/<pid>/task/<tid>/comm), so per-thread CPU can be read for the writer and the readers apart from
 * Node's own threads. Linux only: elsewhere there is no such name to set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.ts';

const threadNames = () =>
  readdirSync(`/proc/${process.pid}/task`).map((tid) => {
    try {
      return readFileSync(`/proc/${process.pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      return ''; // the thread ended meanwhile
    }
  });

test('a file store runs its writer thread as sqlite-writer and its readers as sqlite-reader', { timeout: 30_000, skip: !existsSync('/proc/thread-self/comm') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-names-'));
  const store = new SqliteStore(join(dir, 'db.sqlite'));
  try {
    await store.ready();
    await store.events({ limit: 1 }); // a read goes through a reader thread
    const names = threadNames();
    assert.equal(names.filter((n) => n === 'sqlite-writer').length, 1, `threads: ${names.join(', ')}`);
    assert.ok(names.includes('sqlite-reader'), `threads: ${names.join(', ')}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!threadNames().includes('sqlite-writer'), 'the writer thread is gone once the store closed');
});
