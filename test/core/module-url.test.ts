import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isTypeScriptSource, siblingModule } from '../../src/core/module-url.ts';

test('a module URL is a TypeScript source only when the file itself ends in .ts', { timeout: 5_000 }, () => {
  assert.equal(isTypeScriptSource('file:///opt/actionurl/src/server/app.ts'), true);
  assert.equal(isTypeScriptSource('file:///opt/actionurl/dist/server/app.js'), false);
  assert.equal(isTypeScriptSource('file:///opt/x.ts/dist/server/app.js'), false);
  assert.equal(isTypeScriptSource('file:///opt/actionurl/src/server/app.ts?v=1'), true);
});

test('a sibling module keeps the form of the module asking: .ts from sources, .js from dist/', { timeout: 5_000 }, () => {
  assert.equal(siblingModule('file:///p/src/server/app.ts', '../web/routes').href, 'file:///p/src/web/routes.ts');
  assert.equal(siblingModule('file:///p/dist/server/app.js', '../web/routes').href, 'file:///p/dist/web/routes.js');
  assert.equal(siblingModule('file:///p/dist/store/sqlite.js', './sqlite-worker').href, 'file:///p/dist/store/sqlite-worker.js');
});

test('the modules loaded by URL at run time exist next to their sources', { timeout: 5_000 }, () => {
  const from = new URL('../../src/store/sqlite.ts', import.meta.url).href;
  assert.ok(existsSync(fileURLToPath(siblingModule(from, './sqlite-worker'))));
});
