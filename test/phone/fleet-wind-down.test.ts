/**
 * A fleet run that ends, or is stopped with Ctrl-C, hangs up the calls still up, so the receiver is not left
 * with phones "talking" or "ringing" for hours (and no talk time is booked for calls nobody is on).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runFleet } from '../../src/phone/fleet/index.ts';
import { startTestReceiver } from '../server/helpers/receiver.ts';
import { startCli } from './spawn-cli.ts';

describe('fleet wind-down', { timeout: 60_000 }, () => {
  test('at the end of a run every phone on the receiver is out of its calls', async () => {
    const r = await startTestReceiver();
    try {
      // Long calls at a high rate: many are up when the run ends.
      const summary = await runFleet({ target: r.server.url, phones: 30, durationSec: 2.5, callsPerHour: 3000, talkSec: 60, seed: 'wind', rampSec: 0.3, concurrency: 16 });
      assert.ok(summary.callsWoundDown > 0, 'some calls were up at the end');
      assert.equal(summary.requests.failed, 0);
      const { body } = await r.api('/api/v1/phones?limit=1000');
      assert.equal(body.phones.length, 30);
      const inCall = body.phones.filter((p: { presence: string }) => ['talking', 'ringing', 'dialing', 'held'].includes(p.presence));
      assert.deepEqual(inCall, []);
      const open = await r.api('/api/v1/calls?outcome=ongoing');
      assert.deepEqual(open.body.calls, []);
    } finally {
      await r.cleanup();
    }
  });

  test('Ctrl-C: the fleet hangs up, says so, and the receiver has no call left open', async () => {
    const r = await startTestReceiver();
    try {
      const fleet = startCli(['fleet', '--target', r.server.url, '--phones', '20', '--duration', '600', '--calls-per-hour', '3000',
        '--talk', '60', '--ramp', '0.2', '--seed', 'sigint']);
      // Wait until calls are under way, then stop it as a user would.
      await fleet.stderrLine(/sent (\d{3,})/);
      fleet.child.kill('SIGINT');
      const done = await fleet.done;
      assert.equal(done.status, 0, done.stderr);
      const m = /wound down: (\d+) calls? still up at the end hung up/.exec(done.stdout);
      assert.ok(m, done.stdout);
      assert.ok(Number(m[1]) > 0);
      const open = await r.api('/api/v1/calls?outcome=ongoing');
      assert.deepEqual(open.body.calls, []);
    } finally {
      await r.cleanup();
    }
  });
});
