/**
 * A receiver whose open-file limit is nearly used up by idle sockets (as 21,000 idle sockets over a 20,000
 * limit did): it keeps answering new clients and the connections it has, neither crashing nor spinning.
 * Run as users run it, `actionurl serve` under `ulimit -n`, since the limit is the process's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './helpers/child.ts';
import { openSse } from './helpers/sse.ts';
import { sendRaw } from './helpers/raw-client.ts';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** CPU time (ms) a process used so far, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

test('out of file descriptors, idle sockets make room: new clients are answered, open connections go on, one warning, no spinning', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-fdlimit-'));
  const child = spawn('bash', ['-c', `ulimit -n 128 && exec "${process.execPath}" "${BIN}" serve --port 0 --host 127.0.0.1 --log-level warn --db "${join(dir, 'db.sqlite')}"`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  let exited: number | string | undefined;
  child.on('exit', (code, signal) => (exited = code ?? signal ?? -1));
  const idle: net.Socket[] = [];
  let sse: ReturnType<typeof openSse> | undefined;
  try {
    let port = 0;
    for (let i = 0; i < 1000 && port === 0 && exited === undefined; i++) {
      await sleep(10);
      port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
    }
    assert.ok(port > 0, `serve did not start: ${out}`);
    // A connection in use before the flood: it must keep working.
    sse = openSse(port, '/api/v1/stream');
    assert.equal(await sse.status, 200);

    // Far more idle sockets than the 128 descriptors the process may open.
    for (let i = 0; i < 250; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      idle.push(s);
      if (i % 25 === 24) await sleep(20);
    }
    await sleep(300);

    const before = cpuMs(child.pid!);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
    assert.equal(health.status, 200);
    const { responses } = await sendRaw(port, 'GET /actionurl/incoming_call?mac=001565000099&call_id=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 3000 });
    assert.equal(responses[0]?.status, 200);
    const [m] = await sse.waitFor(1, 5000);
    assert.equal(JSON.parse(m.data).mac, '001565000099');
    await sleep(1000);
    // Not busy-looping on failed accepts: well under half a core over that second and the requests.
    assert.ok(cpuMs(child.pid!) - before < 500, `receiver CPU ${cpuMs(child.pid!) - before} ms`);
    assert.equal(exited, undefined, `the receiver is still running: ${out}`);
    const warnings = out.split('\n').filter((l) => l.includes('near the open-file limit'));
    assert.equal(warnings.length, 1, `one warning for the whole flood (later ones are counted): ${warnings.join('\n')}`);
    assert.match(warnings[0], /"fileLimit":128/);
  } finally {
    sse?.close();
    for (const s of idle) s.destroy();
    child.kill();
    await new Promise((r) => (exited === undefined ? child.once('exit', r) : r(undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
});
