/**
 * The receiver for the remote-control benchmark, in its own process so the virtual phones' work does not
 * count against it: a SQLite file in a temporary folder, fleet credentials admin/admin. Tells the parent its
 * port; "cpu" asks for its CPU time so far (ms), "exit" closes it cleanly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/start.ts';

const dir = mkdtempSync(join(tmpdir(), 'actionurl-bench-control-'));
const server = await startServer({
  db: join(dir, 'bench.sqlite'), port: 0, host: '127.0.0.1', logLevel: 'silent',
  phoneUser: 'admin', phonePassword: 'admin', commandTimeoutMs: 10_000,
});
process.send!({ port: server.port });
process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage();
    process.send!({ cpuMs: (u.user + u.system) / 1000 });
    return;
  }
  if (m !== 'exit') return;
  void server.close().finally(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
