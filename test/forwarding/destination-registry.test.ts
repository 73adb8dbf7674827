/**
 * Destinations switched off by 410 Gone, without sockets: real outbox workers over an in-memory SQLite
 * store, a destination's answers given by the test. A switch-off holds across restarts (a new run over the
 * same store) until an administrator switches the destination on, or gives it another URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { disabledSetting, webhookSpec } from '../../src/forwarding/destination-registry.ts';
import { destinationInfo } from '../../src/forwarding/forwarding-status.ts';
import { SELECT_ALL, type WebhookDestination } from '../../src/forwarding/destinations.ts';
import { STANDARD_SCHEDULE_MS } from '../../src/forwarding/schedule.ts';
import type { Store } from '../../src/store/types.ts';
import { answer, fakeDestination, forwardingRun, incident, memoryStore } from './helpers/parts.ts';
import { until } from './helpers/until.ts';

const MAC = '001565aa0001';

const states = async (store: Store, destination: string) => (await store.deliveries({ destination, limit: 100 })).map((d) => d.state);

test('a destination that answered 410 gets no deliveries after a restart, and what waited for it is dead', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const specs = () => [fakeDestination('crm', async () => answer(410)), fakeDestination('erp')];
    const first = forwardingRun(store, specs());
    await first.commit(incident(MAC, 'incoming_call', 1000), incident(MAC, 'call_established', 1001));
    await until('crm switched off and its deliveries dead', async () => (await states(store, 'crm')).every((s) => s === 'dead') && first.registry.get('crm')!.disabledReason !== null);
    const switchedOff = destinationInfo(first.registry.get('crm')!);
    assert.match(switchedOff.disabledReason!, /410/);
    assert.equal(first.routing.route(incident(MAC, 'dnd_on', 1002)).includes('crm'), false, 'no new rows while switched off');
    // A row written for it before the switch-off was stored (a receiver that stopped right then).
    await store.write({ events: [incident(MAC, 'dnd_on', 1003)], rejected: [], routes: [['crm', 'erp']] });
    await first.stop();

    const second = forwardingRun(store, specs());
    await second.registry.load();
    assert.deepEqual(second.routing.route(incident(MAC, 'dnd_off', 1004)), ['erp']);
    const info = destinationInfo(second.registry.get('crm')!);
    assert.equal(info.enabled, false);
    assert.equal(info.disabledReason, switchedOff.disabledReason);
    assert.equal(info.disabledAt, switchedOff.disabledAt);
    assert.deepEqual(await states(store, 'crm'), ['dead', 'dead', 'dead']);
    assert.equal((await store.deliveries({ destination: 'crm', state: 'dead', limit: 1 }))[0].lastError, switchedOff.disabledReason);
    await second.stop();
  } finally {
    await store.close();
  }
});

test('switched on again, a destination takes the next events, also after a restart', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    let status = 410;
    const specs = () => [fakeDestination('crm', async () => answer(status))];
    const first = forwardingRun(store, specs());
    await first.commit(incident(MAC, 'incoming_call', 1000));
    await until('crm switched off', async () => (await states(store, 'crm'))[0] === 'dead');
    status = 200;
    assert.equal(await first.registry.enable('crm'), true);
    assert.equal(destinationInfo(first.registry.get('crm')!).enabled, true);
    await first.commit(incident(MAC, 'dnd_on', 1001));
    await until('the next event delivered', async () => (await states(store, 'crm'))[0] === 'delivered');
    assert.deepEqual(await states(store, 'crm'), ['delivered', 'dead'], 'the newest delivered; the one dead before stays dead');
    await first.stop();

    const second = forwardingRun(store, specs());
    await second.registry.load();
    assert.deepEqual(second.routing.route(incident(MAC, 'dnd_off', 1002)), ['crm']);
    assert.equal(await second.registry.enable('nosuch'), false, 'no such destination');
    await second.stop();
  } finally {
    await store.close();
  }
});

test('a webhook given another URL since its 410 is switched on at the next start; the same URL stays off', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  const webhook = (url: string): WebhookDestination => ({ kind: 'webhook', name: 'crm', url, select: SELECT_ALL, timeoutMs: 1000 });
  const spec = (url: string) => webhookSpec(webhook(url), { schedule: STANDARD_SCHEDULE_MS, concurrency: 1, now: Date.now });
  const specs = [spec('https://old.example/hook'), spec('https://old.example/hook'), spec('https://new.example/hook')];
  try {
    const first = forwardingRun(store, [specs[0]]);
    await first.registry.disable('crm', 'HTTP 410 Gone');
    await first.stop();

    const same = forwardingRun(store, [specs[1]]);
    await same.registry.load();
    assert.deepEqual(same.routing.route(incident(MAC, 'dnd_on', 1000)), [], 'same URL: still off');
    await same.stop();

    const moved = forwardingRun(store, [specs[2]]);
    await moved.registry.load();
    assert.deepEqual(moved.routing.route(incident(MAC, 'dnd_on', 1000)), ['crm'], 'new URL: on again');
    assert.equal(await store.setting(disabledSetting('crm')), undefined, 'the switch-off is forgotten');
    await moved.stop();
  } finally {
    for (const s of specs) s.close();
    await store.close();
  }
});

test('a switch-off written by hand into the settings switches the destination off, whatever its URL', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    await store.putSetting(disabledSetting('crm'), 'maintenance until Monday');
    const run = forwardingRun(store, [fakeDestination('crm'), fakeDestination('erp')]);
    await run.registry.load();
    assert.deepEqual(run.routing.route(incident(MAC, 'dnd_on', 1000)), ['erp']);
    const info = destinationInfo(run.registry.get('crm')!);
    assert.equal(info.disabledReason, 'maintenance until Monday');
    assert.equal(info.disabledAt, null, 'no time was written with it');
    await run.stop();
  } finally {
    await store.close();
  }
});

test('a webhook is shown without the password or the query string of its URL', { timeout: 10_000 }, async () => {
  const spec = webhookSpec(
    { kind: 'webhook', name: 'crm', url: 'https://user:s3cret@crm.example/hooks?token=abc123', select: SELECT_ALL, timeoutMs: 1000 },
    { schedule: STANDARD_SCHEDULE_MS, concurrency: 1, now: Date.now },
  );
  try {
    assert.doesNotMatch(spec.target, /s3cret|abc123/);
    assert.match(spec.target, /^https:\/\/user:[^@]+@crm\.example\/hooks\?/);
  } finally {
    spec.close();
  }
});
