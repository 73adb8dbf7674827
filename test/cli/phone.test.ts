import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCaptureServer } from '../phone/capture-server.ts';
import { runCliAsync, startCli } from '../phone/spawn-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'actionurl-phone-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const NAME = 'Zoë O\'Brien & Partners';
const CALL = [
  { do: 'boot' }, { do: 'register' }, { do: 'dnd', on: true }, { do: 'dnd', on: false },
  { do: 'incoming', from: 'sip:3001@10.0.0.9', name: NAME }, { do: 'offhook' }, { do: 'remote_hangup' }, { do: 'onhook' },
];

const lines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { incident: string; url: string; status: number });

test('phone --script --target: one JSON line per request, and they are the requests the receiver got', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const r = await runCliAsync(['phone', '--script', file('call.json', CALL), '--target', server.base, '--token', 'tk', '--mac', '00-15-65-AA-BB-01']);
  assert.equal(r.status, 0, r.stderr);
  const out = lines(r.stdout);
  assert.deepEqual(out.map((l) => l.incident), [
    'setup_completed', 'ip_change', 'registered', 'dnd_on', 'dnd_off', 'incoming_call', 'off_hook', 'answer_new_incoming_call',
    'idle_to_busy', 'call_established', 'call_terminated', 'busy_to_idle', 'on_hook',
  ]);
  assert.ok(out.every((l) => l.status === 200));
  assert.deepEqual(server.targets(), out.map((l) => l.url.slice(server.base.length)));
  assert.ok(server.requests.every((q) => q.target.includes(Buffer.from('mac=001565aabb01'))));
  assert.ok(server.requests[5].target.toString('utf8').endsWith(`&display_remote=${NAME}`), 'raw bytes, as firmware sends');
  assert.ok(server.targets().every((t) => /&token=tk(&|$)/.test(t)));
});

test('phone --script --mode safe: values percent-encoded on the wire', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const r = await runCliAsync(['phone', '--script', '-', '--target', server.base, '--mode', 'safe'], JSON.stringify(CALL));
  assert.equal(r.status, 0, r.stderr);
  assert.ok(server.targets()[5].endsWith(`&display_remote=${encodeURIComponent(NAME)}`));
});

test('phone --http10 --no-host-header: the request line and headers older firmware sends', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const r = await runCliAsync(['phone', '--script', file('boot-old.json', [{ do: 'boot' }]), '--target', server.base, '--http10', '--no-host-header']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(server.requests.length, 2);
  assert.ok(server.requests.every((q) => q.line.toString().endsWith(' HTTP/1.0') && !('host' in q.headers)));
});

test('phone --script: an impossible step exits 1 with the step and the reason', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const r = await runCliAsync(['phone', '--script', file('bad.json', [{ do: 'boot' }, { do: 'register' }, { do: 'answer' }]), '--target', server.base]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /step 3 \(answer\): no ringing call to answer/);
  assert.equal(lines(r.stdout).length, 3);
  assert.equal(server.requests.length, 3);
});

test('phone --script: a malformed scenario is a usage error naming the step', { timeout: 180_000 }, async () => {
  const r = await runCliAsync(['phone', '--script', file('typo.json', [{ do: 'boot' }, { do: 'dail', number: '1' }])]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /step 2: unknown action "dail"/);
});

test('phone --config: Action URL settings from a vendor file; a broken file is refused with its lines', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const cfg = file('001565aabb02.cfg', `<<VOIP CONFIG FILE>>Version:2.0000000000\r\n\r\n<CTI CONFIG MODULE>\r\nEnabled Action Url :1\r\nDND On Url         :${server.base}/dnd?mac=$mac&who=$active_user\r\n\r\n<<END OF FILE>>\r\n`);
  const r = await runCliAsync(['phone', '--config', cfg, '--user', '4711', '--script', file('dnd.json', [{ do: 'boot' }, { do: 'dnd', on: true }])]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((l) => l.incident), ['dnd_on']);
  assert.match(server.targets()[0], /^\/dnd\?mac=[0-9a-f]{12}&who=4711$/);

  const broken = file('y000000000000.cfg', '#!version:1.0.0.1\naction_url.dnd_on = ftp://x/\nnonsense\n');
  const refused = await runCliAsync(['phone', '--config', broken, '--script', file('boot.json', [{ do: 'boot' }])]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /line 3: malformed line/);
  assert.match(refused.stderr, /line 2: dnd_on: .*scheme/);
});

test('phone without --script serves its web page and control API until stopped', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const run = startCli(['phone', '--port', '0', '--target', server.base, '--web-password', 'pw']);
  const [, url] = await run.stderrLine(/web page: (http:\/\/\S+)/);
  await server.waitFor(3); // boots and registers on start
  const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  const r = await fetch(`${url}/api/action`, {
    method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ do: 'dnd', on: true }),
  });
  assert.equal(r.status, 200);
  run.child.kill('SIGTERM');
  const done = await run.done;
  assert.equal(done.status, 0);
  assert.deepEqual(lines(done.stdout).map((l) => l.incident), ['setup_completed', 'ip_change', 'registered', 'dnd_on']);
});
