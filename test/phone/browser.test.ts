import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('the phone page tests run the Chromium named by CHROMIUM_PATH', { timeout: 180_000 }, () => {
  const missing = '/nonexistent/actionurl-test-chromium';
  const script = `
    const { launchBrowser } = await import(${JSON.stringify(new URL('./browser.ts', import.meta.url).href)});
    try { const b = await launchBrowser(); await b.close(); console.log('launched'); }
    catch (err) { console.log('failed: ' + err.message); }`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, CHROMIUM_PATH: missing }, encoding: 'utf8', timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^failed: /);
  assert.ok(run.stdout.includes(missing), run.stdout);
});
