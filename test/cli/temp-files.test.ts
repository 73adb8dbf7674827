import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// The command line tests write config files into temp folders; a run must not leave them behind.
test('the command line tests remove the temp folders they make', { timeout: 360_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'actionurl-tmpcheck-'));
  // Without the runner's own context variable, the child runs its tests instead of reporting to this run.
  const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/cli/config.test.ts', 'test/cli/phone.test.ts'], {
      cwd: ROOT, env: { ...env, TMPDIR: scratch }, encoding: 'utf8', timeout: 300_000,
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^# pass [1-9]/m, 'the tests ran');
    // (tsx keeps its compile cache there too; that one is not ours.)
    assert.deepEqual(readdirSync(scratch).filter((name) => name.startsWith('actionurl-')), []);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
