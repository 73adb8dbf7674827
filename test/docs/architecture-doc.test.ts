/**
 * docs/architecture.md's module table names the tree as it is: every folder under src/ has one row, every
 * row's folder exists, and every file the table names (`name.ts`) is in that folder (or below it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

function filesBelow(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) filesBelow(path, out);
    else out.push(name);
  }
  return out;
}

test('docs/architecture.md: a row for every src/ folder, and each file it names exists there', { timeout: 10_000 }, () => {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const rows = doc.split('\n').filter((l) => /^\| `src\//.test(l));
  const paths = rows.map((row) => /^\| `(src\/[^`]+)`/.exec(row)![1]);
  assert.deepEqual(paths.filter((p, i) => paths.indexOf(p) !== i), [], 'folders with two rows (one of them stale)');
  const named = new Map(rows.map((row, i) => [paths[i], row]));
  const folders = readdirSync(join(ROOT, 'src')).filter((n) => statSync(join(ROOT, 'src', n)).isDirectory()).map((n) => `src/${n}/`);
  assert.deepEqual(folders.filter((f) => !named.has(f)), [], 'src/ folders without a row');
  for (const [path, row] of named) {
    assert.ok(existsSync(join(ROOT, path)), `${path} is in the table but not in the tree`);
    if (!path.endsWith('/')) continue;
    const present = new Set(filesBelow(join(ROOT, path)));
    const files = [...row.matchAll(/`([a-z0-9-]+\.ts)`/g)].map((m) => m[1]);
    assert.deepEqual(files.filter((f) => !present.has(f)), [], `files named in the ${path} row that are not in it`);
  }
});
