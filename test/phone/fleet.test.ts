import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { FleetSim, Rng, runFleet, type FleetRequest } from '../../src/phone/fleet/index.ts';
import { Agenda } from '../../src/phone/fleet/heap.ts';
import { startCaptureServer } from './capture-server.ts';

function playSim(seed: string, phones = 40, until = 120_000) {
  const sim = new FleetSim({ phones, callsPerHour: 600, seed, rampMs: 2000 });
  const out: string[] = [];
  sim.runUntil(until, (p, incs) => incs.forEach((i) => out.push(`${p}:${i.slug}:${i.vars.call_id ?? ''}`)));
  return { sim, out };
}

test('a seed reproduces the fleet\'s traffic exactly; another seed gives other traffic', { timeout: 180_000 }, () => {
  const a = playSim('s1');
  const b = playSim('s1');
  const c = playSim('s2');
  assert.ok(a.out.length > 500);
  assert.deepEqual(a.out, b.out);
  assert.notDeepEqual(a.out, c.out);
});

test('fleet traffic is varied: calls answered, missed, rejected, forwarded, transferred, held, muted, DND', { timeout: 180_000 }, () => {
  const { out } = playSim('mix', 200, 600_000);
  const seen = new Set(out.map((l) => l.split(':')[1]));
  for (const slug of ['setup_completed', 'registered', 'incoming_call', 'outgoing_call', 'call_established', 'missed_call',
    'reject_incoming_call', 'forward_incoming_call', 'transfer_call', 'blind_transfer_call', 'attended_transfer_call',
    'transfer_finished', 'hold', 'unhold', 'mute', 'unmute', 'dnd_on', 'dnd_off', 'off_hook', 'on_hook', 'idle_to_busy', 'busy_to_idle']) {
    assert.ok(seen.has(slug), `no ${slug}`);
  }
});

test('fleet phones are distinct: MACs, IPs, accounts', { timeout: 180_000 }, () => {
  const { sim } = playSim('ids', 500, 0);
  const ids = sim.phones.map((p) => p.identity);
  assert.equal(new Set(ids.map((i) => i.mac)).size, 500);
  assert.equal(new Set(ids.map((i) => i.ip)).size, 500);
  assert.equal(new Set(ids.map((i) => i.accounts[0].user)).size, 500);
});

test('agenda: events come out in time order, ties in scheduling order', { timeout: 180_000 }, () => {
  const agenda = new Agenda<{ at: number; seq: number }>();
  const rng = new Rng('heap');
  const items = Array.from({ length: 500 }, (_, seq) => ({ at: rng.int(50), seq }));
  items.forEach((i) => agenda.push(i));
  const popped = items.map(() => agenda.pop()!);
  assert.deepEqual(popped, [...items].sort((x, y) => x.at - y.at || x.seq - y.seq));
  assert.equal(agenda.pop(), undefined);
});

test('a short fleet run: the requests it reports are the requests the receiver got, in each phone\'s order', { timeout: 180_000 }, async () => {
  const server = await startCaptureServer();
  after(() => server.close());
  const reported: FleetRequest[] = [];
  const summary = await runFleet({
    target: server.base, token: 't0k', phones: 20, durationSec: 3, callsPerHour: 2400, seed: 'fixed', rampSec: 0.5,
    concurrency: 8, onRequest: (r) => reported.push(r),
  });
  assert.equal(summary.phonesUp, 20);
  // The run plays the seeded simulation up to 3 s of its own time and sends everything that fired, however
  // slowly the machine kept up: the same seed played without a network fires exactly that traffic.
  const expected: Record<string, number> = {};
  const sim = new FleetSim({ phones: 20, callsPerHour: 2400, seed: 'fixed', rampMs: 500 });
  const count = (_p: number, incs: readonly { slug: string }[]) => incs.forEach((i) => (expected[i.slug] = (expected[i.slug] ?? 0) + 1));
  sim.runUntil(3000, count);
  // Then the run winds down the calls still up.
  assert.equal(sim.windDown(count), summary.callsWoundDown);
  const expectedTotal = Object.values(expected).reduce((a, b) => a + b, 0);
  assert.ok(expectedTotal >= 60 && (expected.call_established ?? 0) > 0, 'boots, registrations and calls in the sample');
  assert.deepEqual(summary.incidents, expected);
  assert.equal(summary.requests.sent, expectedTotal);
  assert.equal(summary.requests.dropped, 0);
  assert.equal(summary.requests.sent, reported.length);
  assert.equal(summary.requests.ok, reported.length);
  assert.deepEqual(summary.failures, {});
  assert.equal(Object.values(summary.incidents).reduce((a, b) => a + b, 0), summary.requests.sent);
  assert.equal(server.requests.length, reported.length);

  const received = server.requests.map((r) => r.target.toString('utf8'));
  const sentTargets = reported.map((r) => r.url.slice(server.base.length));
  assert.deepEqual([...received].sort(), [...sentTargets].sort());
  // Per phone, the receiver saw requests in the order the phone fired them.
  const byMac = (targets: string[]) => {
    const m = new Map<string, string[]>();
    for (const t of targets) {
      const mac = /[?&]mac=([0-9a-f]{12})/.exec(t)![1];
      m.set(mac, [...(m.get(mac) ?? []), t]);
    }
    return m;
  };
  assert.deepEqual(byMac(received), byMac(sentTargets));
  assert.equal(byMac(received).size, 20);
  assert.ok(server.requests.every((r) => /&token=t0k(&|$)/.test(r.target.toString())));
  assert.ok(new Set(server.requests.map((r) => r.connection)).size <= 8, 'kept-alive connections, at most the concurrency');
});
