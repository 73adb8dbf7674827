/**
 * The `actionurl` command runs the JavaScript compiled to dist/ (npm test builds it first). These tests check
 * what only the compiled package can get wrong: files that are not TypeScript (the dashboard's and the
 * phone page's static files) must be found next to the compiled modules, the compiled modules may import
 * only what a user's `npm install` brings (runtime dependencies), and a missing build is one clear line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnServe, BIN } from '../server/helpers/child.ts';
import { startCaptureServer } from '../phone/capture-server.ts';
import { startCli } from '../phone/spawn-cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');
const dir = mkdtempSync(join(tmpdir(), 'actionurl-dist-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function jsFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js') && !join(e.parentPath, e.name).includes('/static/'))
    .map((e) => join(e.parentPath, e.name));
}

/** `pg`, `@scope/name` from `pg/lib/x`, `@scope/name/sub`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

test('the compiled modules import only Node built-ins, runtime dependencies and compiled .js siblings', { timeout: 30_000 }, () => {
  assert.ok(existsSync(join(DIST, 'cli/main.js')), 'dist/ is not built (npm test builds it; or npm run build)');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
  const problems: string[] = [];
  const files = jsFiles(DIST);
  assert.ok(files.length > 20, `only ${files.length} compiled modules found`);
  for (const file of files) {
    const code = readFileSync(file, 'utf8');
    const specifiers = [
      ...code.matchAll(/^(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm), // import { a } from 'x'
      ...code.matchAll(/^import\s*['"]([^'"]+)['"]/gm), // import 'x'
      ...code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g), // await import('x')
    ].map((m) => m[1]);
    for (const s of specifiers) {
      const where = `${file.slice(DIST.length + 1)}: ${s}`;
      if (s.startsWith('.')) {
        if (!s.endsWith('.js')) problems.push(`${where} (relative import not compiled to .js)`);
        else if (!existsSync(resolve(file, '..', s))) problems.push(`${where} (no such compiled file)`);
      } else if (!s.startsWith('node:') && !allowed.has(packageName(s))) {
        problems.push(`${where} (not a runtime dependency)`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('the compiled receiver serves the dashboard page and its static files, byte for byte', { timeout: 30_000 }, async () => {
  const s = await spawnServe(['--db', join(dir, 'serve.sqlite')]);
  try {
    const page = await fetch(`${s.url}/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<title>actionurl<\/title>/);
    // What a browser loads next: the page's own references to its script, style sheet and icon.
    const refs = [...html.matchAll(/(?:href|src)="(\/static\/[^"]+)"/g)].map((m) => m[1]);
    for (const name of ['app.css', 'js/app.js', 'icon.svg']) {
      const ref = refs.find((r) => r.endsWith(`/${name}`));
      assert.ok(ref, `the page does not reference ${name}: ${refs.join(' ')}`);
      const r = await fetch(`${s.url}${ref}`);
      assert.equal(r.status, 200, ref);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), readFileSync(join(ROOT, 'src/web/static', name)), ref);
    }
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test('the compiled virtual phone serves its web page\'s script and style sheet, byte for byte', { timeout: 30_000 }, async () => {
  const server = await startCaptureServer();
  const run = startCli(['phone', '--port', '0', '--target', server.base, '--web-password', 'pw']);
  try {
    const [, url] = await run.stderrLine(/web page: (http:\/\/\S+)/);
    for (const name of ['phone.js', 'phone.css']) {
      const r = await fetch(`${url}/static/${name}`);
      assert.equal(r.status, 200, name);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), readFileSync(join(ROOT, 'src/phone/web/static', name)), name);
    }
  } finally {
    run.child.kill('SIGTERM');
    await run.done;
    server.close();
  }
});

test('without a build the command says what to run, in one line, and exits 1', { timeout: 30_000 }, () => {
  const unbuilt = join(dir, 'unbuilt');
  mkdirSync(join(unbuilt, 'bin'), { recursive: true });
  copyFileSync(BIN, join(unbuilt, 'bin/actionurl.js'));
  const r = spawnSync(process.execPath, [join(unbuilt, 'bin/actionurl.js'), 'events'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /dist\/ is missing.*npm run build/);
});

test('installed as npm lays a package out, the command reports the version its package.json gives', { timeout: 30_000 }, () => {
  // The layout of node_modules/actionurl after an install: package.json, bin/, dist/ (package.json "files").
  const installed = join(dir, 'installed/node_modules/actionurl');
  mkdirSync(installed, { recursive: true });
  cpSync(join(ROOT, 'bin'), join(installed, 'bin'), { recursive: true });
  cpSync(DIST, join(installed, 'dist'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'));
  // Another version than the checkout's: the answer must come from this file, not from a copy in the code.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const version = `${pkg.version}-installed.7`;
  writeFileSync(join(installed, 'package.json'), JSON.stringify({ ...pkg, version }));
  const r = spawnSync(process.execPath, [join(installed, 'bin/actionurl.js'), '--version'], { encoding: 'utf8', timeout: 20_000, cwd: dir });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, `${version}\n`);
  assert.equal(r.status, 0);
});
