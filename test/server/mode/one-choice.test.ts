/**
 * The receiver's mode is chosen in one place: outside the store and src/server/mode/, no code asks a store
 * whether it is shared. A new `store.shared` test elsewhere is the seam the mode object closed (the empty
 * board on PostgreSQL came from such a second route), so it fails here with the places named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    return d.isDirectory() ? tsFiles(path) : d.name.endsWith('.ts') ? [path] : [];
  });
}

test('only the mode objects (and the stores themselves) ask whether a store is shared', { timeout: 10_000 }, () => {
  const askers: string[] = [];
  for (const file of tsFiles(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('store/') || rel.startsWith('server/mode/')) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/\bstore\??\.shared\b/.test(line)) askers.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(askers, []);
});
