/**
 * A command loads only what it needs: `actionurl events` (and the other commands that only read the catalog
 * or write files) must not load the receiver, its store drivers, logger or HTTP stack, which cost several
 * times Node's own start (the figures are in bench/cli-start.ts). What each run loads is recorded by a module
 * resolve hook in the child process (every `import`, the compiled modules and packages alike).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'actionurl-lazy-'));
const hook = join(dir, 'hook.mjs');
writeFileSync(hook, `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.ACTIONURL_TEST_LOADED, r.url + '\\n');
  return r;
}
`);
const registerHook = join(dir, 'register.mjs');
writeFileSync(registerHook, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);

/** The modules a run of the command loaded: compiled ones as their path under dist/, packages by name. */
function loadedBy(args: string[]): { status: number | null; modules: string[] } {
  const log = join(dir, `loaded-${args[0]}-${Math.random().toString(16).slice(2)}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(registerHook).href, BIN, ...args], {
    encoding: 'utf8', env: { ...process.env, ACTIONURL_TEST_LOADED: log }, timeout: 30_000,
  });
  const modules = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((url) => {
    const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (pkg) return `package ${pkg[1]}`;
    const compiled = /\/dist\/(.+)$/.exec(url);
    return compiled ? compiled[1] : url;
  });
  return { status: r.status, modules: [...new Set(modules)] };
}

describe('each command loads only what it needs', { timeout: 120_000 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the catalog, expand, config and command load neither the receiver nor the phone, nor any package but commander', () => {
    for (const args of [['events'], ['vars'], ['expand', 'http://10.0.0.5/actionurl?mac=$mac'], ['config', 'generate', '--help'], ['command', '--help']]) {
      const { status, modules } = loadedBy(args);
      assert.equal(status, 0, args.join(' '));
      assert.ok(modules.includes('cli/main.js'), `the hook saw the run: ${modules.join(' ')}`);
      const beyond = modules.filter((m) => !m.startsWith('node:') && !m.startsWith('cli/') && !m.startsWith('core/') && m !== 'package commander' && !m.endsWith('/bin/actionurl.js'));
      assert.deepEqual(beyond, [], `actionurl ${args.join(' ')} loaded more than it needs`);
    }
  });

  it('serve loads the receiver, and the overall help still lists every command', () => {
    const serve = loadedBy(['serve', '--help']);
    assert.equal(serve.status, 0);
    assert.ok(serve.modules.includes('start.js') && serve.modules.includes('package pino'), serve.modules.join(' '));
    const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', timeout: 30_000 });
    for (const name of ['serve', 'phone', 'fleet', 'command', 'events', 'vars', 'expand', 'config', 'backup']) {
      assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
    }
  });
});
