/**
 * docs/vendors.md restates what the code encodes. These checks keep the two from drifting apart: the
 * incident table names the catalog's keys, and every `docs/<file>.md, "<section>"` cited in src/ or test/
 * names a file and a heading that exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { INCIDENTS, VARIABLE_SPELLINGS } from '../../src/core/catalog.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const vendorsDoc = readFileSync(join(ROOT, 'docs/vendors.md'), 'utf8');

/** The rows of the incident table: `| # | name | slug | fanvil | snom | grandstream |`. */
function incidentRows(): string[][] {
  return vendorsDoc
    .split('\n')
    .filter((line) => /^\| \d+ \|/.test(line))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

/** A key cell without its remark: `PhoneState Idle Url (**unverified**)` → `PhoneState Idle Url`, `–` → undefined. */
const keyIn = (cell: string) => (cell === '–' ? undefined : cell.replace(/\s*\(\*\*unverified\*\*\)$/, ''));

test('the incident table lists the catalog\'s 34 incidents with each vendor\'s key', { timeout: 60_000 }, () => {
  const rows = incidentRows();
  assert.equal(rows.length, 34);
  assert.deepEqual(
    rows.map(([n, name, slug, fanvil, snom, grandstream]) => ({
      n: Number(n), name, slug, fanvil: keyIn(fanvil), snom: keyIn(snom), grandstream: keyIn(grandstream),
    })),
    INCIDENTS.map((i) => ({
      n: i.n, name: i.name, slug: i.slug, fanvil: i.keys.fanvil, snom: i.keys.snom, grandstream: i.keys.grandstream,
    })),
  );
});

test('every variable spelling the decoder knows is named in the doc', { timeout: 60_000 }, () => {
  for (const spelling of VARIABLE_SPELLINGS.keys()) {
    assert.ok(vendorsDoc.includes(`\`$${spelling}\``) || vendorsDoc.includes(`$${spelling} `) || vendorsDoc.includes(`\`${spelling}\``),
      `$${spelling} is not in docs/vendors.md`);
  }
});

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

test('every docs/… section cited in the code exists', { timeout: 60_000 }, () => {
  const cites: { from: string; file: string; section?: string }[] = [];
  for (const path of [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'test'))]) {
    const text = readFileSync(path, 'utf8').replace(/\n\s*(\*|\/\/)\s*/g, ' ');
    for (const m of text.matchAll(/docs\/([a-z-]+\.md)(?:[,)]?\s*\(?\s*"([^"]+)")?/g)) {
      cites.push({ from: path.slice(ROOT.length + 1), file: m[1], section: m[2] });
    }
  }
  assert.ok(cites.some((c) => c.file === 'vendors.md' && c.section === 'Incident order in common flows'));
  for (const { from, file, section } of cites) {
    let doc: string;
    try {
      doc = readFileSync(join(ROOT, 'docs', file), 'utf8');
    } catch {
      assert.fail(`${from} cites docs/${file}, which does not exist`);
    }
    if (section) {
      const headings = [...doc.matchAll(/^#+ (.+)$/gm)].map((h) => h[1].trim());
      assert.ok(headings.includes(section), `${from} cites docs/${file}, "${section}": no such heading`);
    }
  }
});
