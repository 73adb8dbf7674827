/**
 * A start that fails after the store opened (here: the port is taken) closes every part it made: no timer,
 * socket or sweeper is left behind to log "The database connection is not open" later, as one did.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startServer } from '../../src/start.ts';

/** This process's timers and sockets, by kind (what keeps it running). */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) out[kind] = (out[kind] ?? 0) + 1;
  return out;
}

test('a failed start (port in use) leaves no timer or socket behind', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-failed-start-'));
  const first = await startServer({ db: join(dir, 'a.sqlite'), port: 0, host: '127.0.0.1', logLevel: 'silent' });
  try {
    const before = resources();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }));
    // The failed start's timers on a mocked clock: the slowest of them (remote control's command sweep, every
    // 15 s) comes at once, and a part left running says so by logging from its closed store.
    mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
    try {
      await assert.rejects(
        startServer({ db: join(dir, 'b.sqlite'), port: first.port, host: '127.0.0.1', logger }),
        (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE',
      );
      mock.timers.tick(16_000);
    } finally {
      mock.timers.reset();
    }
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(lines, [], 'nothing of the failed start is still running');
    const after = resources();
    for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
      assert.ok((after[kind] ?? 0) <= (before[kind] ?? 0), `${kind}: ${before[kind] ?? 0} before, ${after[kind] ?? 0} after the failed start`);
    }
  } finally {
    await first.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
