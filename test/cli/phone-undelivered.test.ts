/**
 * `phone --script` against a receiver that gets nothing: a closed port, or one that answers 403 (a wrong
 * token). The run must not look like a success to a script: exit 1 and a line saying how many failed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCaptureServer } from '../phone/capture-server.ts';
import { runCliAsync } from '../phone/spawn-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'actionurl-phone-undelivered-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** boot, register, DND on, DND off: at least four requests (booting may send more than one). */
const script = join(dir, 'four.json');
writeFileSync(script, JSON.stringify([{ do: 'boot' }, { do: 'register' }, { do: 'dnd', on: true }, { do: 'dnd', on: false }]));

/** A port nothing listens on: bound by the system, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('phone --script against a closed port: exit 1, every request counted as not delivered', { timeout: 60_000 }, async () => {
  const port = await closedPort();
  const r = await runCliAsync(['phone', '--script', script, '--target', `http://127.0.0.1:${port}`, '--timeout', '2000']);
  assert.equal(r.status, 1, r.stderr);
  const sent = r.stdout.trim().split('\n').length;
  assert.ok(sent >= 4, 'each request still has its JSON line');
  assert.ok(r.stderr.split('\n').includes(`actionurl phone: ${sent} of ${sent} requests did not reach the receiver (${sent} ECONNREFUSED)`), r.stderr);
});

test('phone --script against a receiver answering 403 to some requests: exit 1 with the count and status', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer({ status: (i) => (i >= 2 ? 403 : 200) });
  after(() => server.close());
  const r = await runCliAsync(['phone', '--script', script, '--target', server.base]);
  assert.equal(r.status, 1, r.stderr);
  const sent = server.requests.length;
  assert.ok(sent >= 4);
  assert.ok(r.stderr.split('\n').includes(`actionurl phone: ${sent - 2} of ${sent} requests did not reach the receiver (${sent - 2} HTTP 403)`), r.stderr);
});

test('phone --script where every request gets a 2xx: exit 0 and nothing about failures', { timeout: 60_000 }, async () => {
  const server = await startCaptureServer({ status: (i) => (i === 0 ? 204 : 200) });
  after(() => server.close());
  const r = await runCliAsync(['phone', '--script', script, '--target', server.base]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /did not reach/);
});
