/**
 * The layering rule of docs/architecture.md ("Layers"), checked on every import in src/: a file may import
 * its own folder's layer and any layer below it, never one above it, and never a sibling of its own rank
 * (server, web, phone and forwarding do not import each other). No file-level import cycles either.
 * Static, dynamic (`import('…')`), type-only, `new URL('…', import.meta.url)` and `siblingModule(import.meta.url, '…')`
 * references all count.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Lowest first. Entries of one rank are siblings: none may import another. */
const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['domain'],
  ['store'],
  ['http'],
  ['server', 'web', 'phone', 'forwarding'],
  ['config'],
  ['start'],
  ['cli'],
];

type Graph = Map<string, string[]>;

/**
 * The layer name of a path under src/ (`server/api/rest.ts` → `server`). The composition root `start.ts`
 * and its parts in `start/` are one layer: `start`.
 */
function layerOf(file: string): string {
  const top = file.split('/')[0];
  return top === 'start.ts' ? 'start' : top;
}

function rankOf(layer: string): number {
  return LAYERS.findIndex((names) => names.includes(layer));
}

/** `from`'s import of `to` breaks the rule: the reason, else undefined. */
function violation(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra < 0) return `${a} is in no layer (add it to docs/architecture.md and this test)`;
  if (rb < 0) return `${b} is in no layer (add it to docs/architecture.md and this test)`;
  if (a === b) return undefined;
  if (rb > ra) return `${a} may not import ${b}, a higher layer`;
  if (rb === ra) return `${a} may not import ${b}, a sibling`;
  return undefined;
}

/** Every file on an import cycle, as one cycle each: `a.ts → b.ts → a.ts`. */
function cycles(graph: Graph): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const s = state.get(next);
      if (s === 'open') found.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

const REFERENCE = [
  /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\bimport\s+['"]([^'"]+)['"]/g,
  /\bnew\s+URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  /\bsiblingModule\(\s*import\.meta\.url\s*,\s*['"]([^'"]+)['"]/g,
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** File (relative to src/, `/`-separated) → the files under src/ it references. */
function importGraph(): Graph {
  const graph: Graph = new Map();
  for (const path of tsFiles(SRC)) {
    const file = relative(SRC, path).split('\\').join('/');
    const text = readFileSync(path, 'utf8');
    const targets = new Set<string>();
    for (const re of REFERENCE) {
      for (const m of text.matchAll(re)) {
        const spec = m[1];
        if (!spec.startsWith('.')) continue;
        let target = posix.normalize(posix.join(posix.dirname(file), spec));
        // siblingModule() names a module without its extension (.ts in src/, .js in dist/).
        if (!/\.[a-z]+$/.test(target)) target += '.ts';
        // The package's own package.json (read for its version, core/version.ts) is data, not a module.
        if (target === '../package.json') continue;
        if (target.startsWith('../')) throw new Error(`${file}: "${spec}" points outside src/`);
        targets.add(target);
      }
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

describe('layering of src/', { timeout: 30_000 }, () => {
  test('every import goes to the same or a lower layer, never up or sideways', () => {
    const graph = importGraph();
    assert.ok(graph.size > 50, `expected the whole of src/, found ${graph.size} files`);
    const bad: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const why = violation(file, target);
        if (why) bad.push(`src/${file} imports src/${target}: ${why}`);
      }
    }
    assert.deepEqual(bad, []);
  });

  test('no file-level import cycles', () => {
    assert.deepEqual(cycles(importGraph()), []);
  });

  test('the checks catch what they are there for', () => {
    assert.match(violation('store/sqlite.ts', 'server/context.ts') ?? '', /store may not import server, a higher layer/);
    assert.match(violation('server/app.ts', 'web/auth.ts') ?? '', /server may not import web, a sibling/);
    assert.match(violation('forwarding/webhook.ts', 'server/bus.ts') ?? '', /a sibling/);
    assert.match(violation('extra/thing.ts', 'core/mac.ts') ?? '', /extra is in no layer/);
    assert.equal(violation('server/app.ts', 'domain/types.ts'), undefined);
    assert.equal(violation('start.ts', 'web/routes.ts'), undefined);
    assert.equal(violation('cli/commands/serve.ts', 'start.ts'), undefined);
    assert.equal(violation('start.ts', 'start/receiver.ts'), undefined);
    assert.equal(violation('start/receiver.ts', 'config/receiver-config.ts'), undefined);
    assert.match(violation('config/receiver-config.ts', 'start/parts.ts') ?? '', /config may not import start, a higher layer/);
    const graph: Graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(cycles(graph), ['a.ts → b.ts → c.ts → a.ts']);
    assert.deepEqual(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
  });
});
