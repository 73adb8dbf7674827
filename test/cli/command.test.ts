/**
 * `actionurl command` against a real receiver and a virtual phone started from the command line
 * (`actionurl phone --vendor … --action-uri-allow …`), both over real sockets.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { runCliAsync, startCli } from '../phone/spawn-cli.ts';
import { startTestReceiver } from '../server/helpers/receiver.ts';

describe('actionurl command', { timeout: 180_000 }, () => {
  test('dials through the receiver and reports the confirmation; a refusal exits 1 with the reason', async () => {
    const r = await startTestReceiver();
    after(() => r.cleanup());
    const phone = startCli(['phone', '--vendor', 'snom', '--port', '0', '--target', r.server.url, '--action-uri-allow', '127.0.0.1', '--mac', '00:04:13:00:00:42']);
    after(() => {
      phone.child.kill('SIGTERM');
    });
    const [, web] = await phone.stderrLine(/web page: (http:\/\/\S+)/);
    const [, model] = await phone.stderrLine(/\((\S+) /);
    assert.equal(model, 'D785', 'a Snom phone reports a Snom model');
    await phone.stderrLine(/remote control \(snom\): \/command\.htm, allowed from 127\.0\.0\.1/);
    // Wait for the phone's boot events to reach the receiver.
    for (;;) {
      if ((await r.api('/api/v1/phones/000413000042')).status === 200) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const put = await r.api('/api/v1/phones/000413000042/control', {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: web, username: 'admin', password: 'admin' }),
    });
    assert.equal(put.body.effective.vendor, 'snom');

    const dial = await runCliAsync(['command', '00:04:13:00:00:42', 'dial', '2001', '--server', r.server.url]);
    assert.equal(dial.status, 0, dial.stderr);
    assert.match(dial.stdout, /confirmed by outgoing_call \(event \d+\)/);

    const json = await runCliAsync(['command', '000413000042', 'hangup', '--server', r.server.url, '--json']);
    assert.equal(json.status, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).status, 'confirmed');

    await r.api('/api/v1/phones/000413000042/control', {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'nope' }),
    });
    const refused = await runCliAsync(['command', '000413000042', 'dnd_on', '--server', r.server.url]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^failed: the phone refused the user name or password/m);
  });

  test('a wrong admin token is answered "not accepted", a missing one "required", each in one line', async () => {
    const token = 'a-long-enough-admin-token-for-this-test';
    const r = await startTestReceiver({ adminToken: token });
    after(() => r.cleanup());
    const wrong = await runCliAsync(['command', '001565000001', 'hangup', '--server', r.server.url, '--admin-token', 'wrong-but-long-enough-admin-token']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /^actionurl command: the admin token sent is not accepted/);
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
    const missing = await runCliAsync(['command', '001565000001', 'hangup', '--server', r.server.url]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^actionurl command: admin token required/);
    // The right one gets past the token check (the phone is unknown here).
    const right = await runCliAsync(['command', '001565000001', 'hangup', '--server', r.server.url, '--admin-token', token]);
    assert.match(right.stderr, /no phone 001565000001 has sent an event/);
  });

  test('mistakes on the command line: one line, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['command', 'nope', 'hangup', '--server', 'http://127.0.0.1:1'], /"nope" is not a MAC address/],
      [['command', '001565000001', 'explode', '--server', 'http://127.0.0.1:1'], /unknown command "explode"/],
      [['command', '001565000001', 'dial', '--server', 'http://127.0.0.1:1'], /dial needs the number/],
      [['command', '001565000001', 'hangup', 'now', '--server', 'http://127.0.0.1:1'], /hangup takes no arguments/],
      [['command', '001565000001', 'hangup'], /--server is required/],
      [['phone', '--action-uri-allow', '10.0.0.300', '--port', '0'], /--action-uri-allow: "10\.0\.0\.300" is not an address/],
    ];
    for (const [args, re] of cases) {
      const out = await runCliAsync(args);
      assert.equal(out.status, 2, `${args.join(' ')}: ${out.stderr}`);
      assert.match(out.stderr, re);
      assert.equal(out.stderr.trim().split('\n').length, 1, out.stderr);
    }
  });
});
