/**
 * phone.offline across restarts, on a real in-memory SQLite store with the clock given by the test: a phone
 * silent for the threshold gets one phone.offline, a phone that went silent while the receiver was stopped
 * gets it at the next start, and one announced before the stop does not get it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialPhoneState } from '../../src/domain/reduce.ts';
import type { PhoneState } from '../../src/domain/types.ts';
import { EventRouting } from '../../src/forwarding/event-routing.ts';
import { makeSelector, SELECT_ALL, type EventSelector } from '../../src/forwarding/destinations.ts';
import { OfflineSweep } from '../../src/forwarding/offline-sweep.ts';
import type { NewDelivery, Store } from '../../src/store/types.ts';
import { memoryStore } from './helpers/parts.ts';

const OFFLINE_AFTER_MS = 10 * 60_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 6, 9);

/** One run of the receiver's sweep at `now`, over these phones; derived rows are committed to the store. */
async function sweepRun(store: Store, phones: PhoneState[], now: number, select: EventSelector = SELECT_ALL): Promise<void> {
  const routing = new EventRouting();
  routing.refresh([{ name: 'crm', select }]);
  const sweep = new OfflineSweep({ store, phones: { all: () => phones }, routing, offlineAfterMs: OFFLINE_AFTER_MS, now: () => now });
  let rows: NewDelivery[] = [];
  const commits = {
    addDeliveries: (r: readonly NewDelivery[]) => void rows.push(...r),
    flush: async () => {
      const batch = rows;
      rows = [];
      await store.write({ events: [], rejected: [], deliveries: batch });
    },
  };
  await sweep.load();
  sweep.start();
  await sweep.sweep(commits);
  await sweep.sweep(commits); // a second sweep of the same run finds nothing new
  await commits.flush();
}

async function offlineMacs(store: Store): Promise<string[]> {
  return (await store.deliveries({ destination: 'crm', limit: 100 })).filter((d) => d.type === 'phone.offline').map((d) => d.mac).sort();
}

test('a phone silent for the threshold gets one phone.offline, however often the receiver restarts', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const phones = [initialPhoneState('001565000001', T0), initialPhoneState('001565000002', T0 + OFFLINE_AFTER_MS)];
    await sweepRun(store, phones, T0); // first start with forwarding: both still online
    await sweepRun(store, phones, T0 + OFFLINE_AFTER_MS + 1000);
    assert.deepEqual(await offlineMacs(store), ['001565000001']);
    await sweepRun(store, phones, T0 + OFFLINE_AFTER_MS + 2000);
    await sweepRun(store, phones, T0 + 2 * OFFLINE_AFTER_MS + 1000);
    assert.deepEqual(await offlineMacs(store), ['001565000001', '001565000002']);
    const [body] = (await store.deliveries({ destination: 'crm', limit: 100 })).filter((d) => d.mac === '001565000001').map((d) => JSON.parse(d.body!));
    assert.equal(body.type, 'phone.offline');
    assert.equal(body.timestamp, new Date(T0 + OFFLINE_AFTER_MS).toISOString(), 'dated when the threshold passed, not when it was found');
  } finally {
    await store.close();
  }
});

test('a phone that went silent while the receiver was stopped gets its phone.offline at the next start', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const quiet = initialPhoneState('001565000003', T0);
    await sweepRun(store, [quiet], T0 + 60_000); // running; the phone is still online
    // Stopped for a day: the phone's offline moment passed meanwhile.
    await sweepRun(store, [quiet], T0 + 24 * HOUR);
    assert.deepEqual(await offlineMacs(store), ['001565000003']);
  } finally {
    await store.close();
  }
});

test('at the first start with forwarding, phones silent long ago are not announced all at once', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    const longAgo = initialPhoneState('001565000004', T0 - 30 * 24 * HOUR);
    await sweepRun(store, [longAgo], T0);
    await sweepRun(store, [longAgo], T0 + HOUR);
    assert.deepEqual(await offlineMacs(store), []);
    // It speaks again, then falls silent: that one is announced.
    const back = initialPhoneState('001565000004', T0 + 2 * HOUR);
    await sweepRun(store, [back], T0 + 2 * HOUR + OFFLINE_AFTER_MS + 1000);
    assert.deepEqual(await offlineMacs(store), ['001565000004']);
  } finally {
    await store.close();
  }
});

test('no phone.offline is derived when no destination takes it', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  try {
    await sweepRun(store, [initialPhoneState('001565000005', T0)], T0 + HOUR, makeSelector(['incidents'], undefined));
    assert.deepEqual(await store.outboxDepth(), {});
  } finally {
    await store.close();
  }
});
