/**
 * Remote control on the receiver without sockets or a running receiver: the control service over a real
 * in-memory SQLite store and an event bus, with the phone's side of the exchange played by the test.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { openStore } from '../../src/store/open.ts';
import type { Store, StoredCommand, StoredEvent } from '../../src/store/types.ts';
import { reduce } from '../../src/domain/reduce.ts';
import { EventBus } from '../../src/server/bus.ts';
import { PhoneRegistry } from '../../src/server/phones.ts';
import { MetricsRegistry } from '../../src/server/metrics.ts';
import { SecretBox } from '../../src/server/control/secrets.ts';
import { ControlService } from '../../src/server/control/service.ts';
import type { ExchangeOptions, ExchangeResult } from '../../src/server/control/exchange.ts';

const MAC = '001565aabbcc'; // a Yealink prefix: the vendor is recognised from the events
const ACCEPTED: ExchangeResult = { reply: { status: 200, body: '{"response":"success"}', challenges: [] }, habits: { pathIndex: 0, digest: false } };

/** The service as the receiver builds it, with `answer` standing in for the phone. */
async function controlOver(answer: (o: ExchangeOptions) => Promise<ExchangeResult>, confirmTimeoutMs = 10_000) {
  const store: Store = await openStore(':memory:');
  const phones = new PhoneRegistry();
  const bus = new EventBus();
  const sent: ExchangeOptions[] = [];
  // Waits on what the service does, never on a clock (the time-out test mocks setTimeout).
  const waits = new Set<() => void>();
  const changed = () => {
    for (const w of [...waits]) w();
  };
  const when = (ok: () => boolean) => new Promise<void>((resolve) => {
    if (ok()) return resolve();
    const check = () => {
      if (!ok()) return;
      waits.delete(check);
      resolve();
    };
    waits.add(check);
  });
  let nextId = 1;
  const service = new ControlService({
    store, phones, bus, logger: pino({ level: 'silent' }), registry: new MetricsRegistry(), box: new SecretBox(randomBytes(32)),
    now: Date.now, confirmTimeoutMs,
    exchange: (o) => {
      sent.push(o);
      changed();
      return answer(o);
    },
  });
  await service.load();
  /** An event of the phone, committed and published as the commit queue does. */
  const event = (incident: string, vars: Record<string, string> = {}, sourceIp = '10.0.0.42') => {
    const e: StoredEvent = {
      id: nextId++, receivedAt: Date.now(), mac: MAC, incident, vars: { mac: MAC, model: 'SIP-T46U', ...vars }, extra: {},
      rawTarget: Buffer.from(`/actionurl/${incident}?mac=${MAC}`), sourceIp,
    };
    const { state, changedCalls } = reduce(phones.get(MAC), e);
    phones.set(state);
    bus.publish({ type: 'event', event: e, phone: state, changedCalls });
  };
  /** Every step a caller following the command is told (as the MQTT result topic is). */
  const steps = (c: StoredCommand | { busy: string }) => {
    assert.ok(!('busy' in c));
    const seen: StoredCommand[] = [c];
    service.follow(c.id, (s) => {
      seen.push(s);
      changed();
    });
    return seen;
  };
  return {
    service, sent, event, steps, when,
    async close() {
      await service.close();
      await store.close();
    },
  };
}

test('a command to a phone without an approved address is refused with the reason, and nothing is sent', { timeout: 30_000 }, async () => {
  const c = await controlOver(async () => ACCEPTED);
  try {
    c.event('registered', { ip: '10.0.0.42' });
    const out = c.service.submit(MAC, { command: 'dnd_on' });
    assert.ok(!('busy' in out));
    assert.equal(out.status, 'failed');
    assert.match(out.reason!, /no approved control address for this phone: set "url"/);
    // What the phone's events report is offered for confirmation, never used by itself.
    assert.match(out.reason!, /confirm the address its events report: .*"address":"10\.0\.0\.42"/);
    assert.equal(c.sent.length, 0);
    assert.equal((await c.service.get(out.id))?.status, 'failed');
  } finally {
    await c.close();
  }
});

test('a phone whose events report another address than the approved one gets nothing until the admin confirms', { timeout: 30_000 }, async () => {
  const c = await controlOver(async () => ACCEPTED);
  try {
    c.event('registered', { ip: '10.0.0.42' });
    assert.ok(!('error' in (await c.service.put(MAC, { url: 'http://10.0.0.42' }))));
    c.event('ip_change', { ip: '10.0.0.99' }, '10.0.0.99');
    const out = c.service.submit(MAC, { command: 'dnd_on' });
    assert.ok(!('busy' in out));
    assert.equal(out.status, 'failed');
    assert.match(out.reason!, /^moved: confirm new address 10\.0\.0\.99\./);
    assert.equal(c.sent.length, 0);
    // Confirmed, the new address is where the next command goes.
    assert.ok(!('error' in (await c.service.confirm(MAC, { address: '10.0.0.99' }))));
    c.service.submit(MAC, { command: 'dnd_on' });
    await c.when(() => c.sent.length === 1);
    assert.equal(c.sent[0].baseUrl, 'http://10.0.0.99');
  } finally {
    await c.close();
  }
});

test('a command to an approved address goes there, is accepted, and is confirmed by the phone\'s own event', { timeout: 30_000 }, async () => {
  const c = await controlOver(async () => ACCEPTED);
  try {
    c.event('registered', { ip: '10.0.0.42' });
    assert.ok(!('error' in (await c.service.put(MAC, { url: 'http://10.0.0.42:8080/', username: 'admin', password: 'secret' }))));
    const out = c.service.submit(MAC, { command: 'dnd_on' });
    const steps = c.steps(out);
    assert.equal(steps[0].status, 'sent');
    await c.when(() => c.sent.length === 1);
    assert.equal(c.sent[0].baseUrl, 'http://10.0.0.42:8080');
    assert.equal(c.sent[0].vendor, 'yealink');
    assert.deepEqual(c.sent[0].credentials, { username: 'admin', password: 'secret' });
    await c.when(() => steps.at(-1)?.status === 'accepted');
    c.event('dnd_on');
    await c.when(() => steps.at(-1)?.status === 'confirmed');
    assert.equal(steps.at(-1)?.confirmedBy?.incident, 'dnd_on');
    assert.equal(c.sent.length, 1, 'one attempt');
  } finally {
    await c.close();
  }
});

test('a command not confirmed in time fails saying what the phone did and which incident did not come', { timeout: 30_000 }, async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const confirmTimeoutMs = 10_000;
  const silent = new Promise<ExchangeResult>(() => {}); // a phone that never answers (its own time-out is exchange's)
  let answer: Promise<ExchangeResult> = Promise.resolve(ACCEPTED);
  const c = await controlOver(() => answer, confirmTimeoutMs);
  try {
    c.event('registered', { ip: '10.0.0.42' });
    assert.ok(!('error' in (await c.service.put(MAC, { url: 'http://10.0.0.42' }))));

    const accepted = c.steps(c.service.submit(MAC, { command: 'dnd_on' }));
    await c.when(() => accepted.at(-1)?.status === 'accepted');
    mock.timers.tick(confirmTimeoutMs - 1);
    assert.equal(accepted.at(-1)?.status, 'accepted', 'still waiting just before the time-out');
    mock.timers.tick(1);
    assert.equal(accepted.at(-1)?.status, 'failed');
    assert.match(accepted.at(-1)!.reason!, /^the phone accepted the command but its Action URL reported no dnd_on within 10 s/);

    answer = silent;
    const unanswered = c.steps(c.service.submit(MAC, { command: 'dnd_on' }));
    await c.when(() => c.sent.length === 2);
    mock.timers.tick(confirmTimeoutMs);
    assert.equal(unanswered.at(-1)?.status, 'failed');
    assert.equal(unanswered.at(-1)!.reason, 'no answer and no dnd_on from the phone within 10 s');
    // A confirming event after the time-out changes nothing.
    c.event('dnd_on');
    assert.equal((await c.service.get(unanswered[0].id))?.status, 'failed');
  } finally {
    mock.timers.reset();
    await c.close();
  }
});
