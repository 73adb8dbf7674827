/** `actionurl serve` refuses a forwarding mistake at start: one line naming the flag (and the file's line), exit 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../server/helpers/child.ts';

function serve(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--db', ':memory:', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stderr: r.stderr.trim() };
}

test('a destination file with a mistake is refused with the line and the reason', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'actionurl-fwd-cli-'));
  try {
    const file = join(dir, 'fwd.json');
    writeFileSync(file, '{\n  "destinations": [\n    { "url": "http://127.0.0.1:9/", "events": ["incomming_call"] }\n  ]\n}\n');
    const bad = serve(['--forward', file]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /fwd\.json: line 3: events: "incomming_call" is not an incident/);

    const missing = serve(['--forward', join(dir, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--forward .*nope\.json: cannot read it \(ENOENT\)/);

    const secret = serve(['--webhook', 'http://127.0.0.1:9/', '--webhook-secret', 'hunter2']);
    assert.equal(secret.code, 2);
    assert.match(secret.stderr, /--webhook-secret: a webhook secret looks like whsec_/);

    const mqtt = serve(['--mqtt', 'http://broker']);
    assert.equal(mqtt.code, 2);
    assert.match(mqtt.stderr, /--mqtt "http:\/\/broker": expected mqtt:\/\/host:1883/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a mistyped --forward-lease (flag or environment) is refused in one line naming the range', { timeout: 60_000 }, () => {
  const short = serve(['--forward-lease', '1']);
  assert.equal(short.code, 2);
  assert.equal(short.stderr, "error: option '--forward-lease <seconds>' argument '1' is invalid. Expected a whole number from 2 to 600.");
  const r = spawnSync(process.execPath, [BIN, 'serve', '--port', '0', '--db', ':memory:'], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, ACTIONURL_FORWARD_LEASE: '15s' },
  });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), "error: option '--forward-lease <seconds>' value '15s' from env 'ACTIONURL_FORWARD_LEASE' is invalid. Expected a whole number from 2 to 600.");
});
