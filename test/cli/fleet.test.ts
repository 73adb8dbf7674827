import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCaptureServer } from '../phone/capture-server.ts';
import { runCliAsync } from '../phone/spawn-cli.ts';

test('fleet --json: progress on stderr, a summary whose counts match what the receiver got', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const r = await runCliAsync(['fleet', '--target', server.base, '--phones', '10', '--duration', '2.2', '--calls-per-hour', '3000',
    '--seed', 'cli', '--ramp', '0.3', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /phones up 10\/10 {2}sent \d+ {2}failed 0/);
  const s = JSON.parse(r.stdout) as {
    seed: string; phonesUp: number; requests: { sent: number; ok: number; failed: number }; incidents: Record<string, number>;
    latencyMs: { p50: number; p99: number };
  };
  assert.equal(s.seed, 'cli');
  assert.equal(s.phonesUp, 10);
  assert.equal(s.requests.sent, server.requests.length);
  assert.equal(s.requests.ok, s.requests.sent);
  assert.equal(s.incidents.setup_completed, 10);
  const perIncident = new Map<string, number>();
  for (const t of server.targets()) {
    const slug = /^\/actionurl\/([a-z_]+)\?/.exec(t)![1];
    perIncident.set(slug, (perIncident.get(slug) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries([...perIncident].sort()), Object.fromEntries(Object.entries(s.incidents).sort()));
  assert.ok(s.latencyMs.p50 <= s.latencyMs.p99);
});

test('fleet: human summary; a receiver nobody answers on makes the exit code 1', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  const port = server.port;
  await server.close();
  const r = await runCliAsync(['fleet', '--target', `http://127.0.0.1:${port}`, '--phones', '2', '--duration', '0.5', '--seed', 'x', '--quiet']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /requests: \d+ sent, 0 ok, \d+ failed/);
  assert.match(r.stdout, /failures:\n {2}ECONNREFUSED/);
  assert.match(r.stdout, /same traffic again: --seed x/);
  assert.equal(r.stderr, '');
});

test('fleet without --target is a usage error', { timeout: 180_000 }, async () => {
  const r = await runCliAsync(['fleet', '--phones', '2']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--target is required/);
});
