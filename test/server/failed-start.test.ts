/**
 * A start that fails after the store opened (here: the port is taken) closes every part it made: no timer,
 * socket or sweeper is left behind to log "The database connection is not open" later, as one did.
 */
import { test } from 'node:test';
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
    await new Promise((r) => setTimeout(r, 200));
    const before = resources();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }));
    await assert.rejects(
      startServer({ db: join(dir, 'b.sqlite'), port: first.port, host: '127.0.0.1', logger }),
      (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE',
    );
    // Remote control's command sweep runs every 15 s: a part left running would have said so by now.
    await new Promise((r) => setTimeout(r, 16_000));
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
