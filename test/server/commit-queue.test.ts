/**
 * The group commit on its own (as the local mode makes it, which reduces what it commits), without sockets
 * or a running receiver: a real in-memory SQLite store behind
 * a wrapper that counts, holds or fails its writes, and the queue's phone registry and event bus.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/open.ts';
import type { NewEvent, Store, StoredEvent, WriteBatch } from '../../src/store/types.ts';
import { LocalMode } from '../../src/server/mode/local.ts';
import type { ModeCommitOptions } from '../../src/server/mode/mode.ts';
import { PhoneRegistry } from '../../src/server/phones.ts';
import { EventBus, type BusMessage } from '../../src/server/bus.ts';
import { until } from '../forwarding/helpers/until.ts';


function incident(mac: string, slug: string, at = 1_700_000_000_000): NewEvent {
  return { receivedAt: at, mac, incident: slug, vars: { mac }, extra: {}, rawTarget: Buffer.from(`/actionurl/${slug}?mac=${mac}`), sourceIp: '10.0.0.1' };
}

/** The in-memory store, with each write seen by the test: held until `open()`, or failed once on demand. */
async function watchedStore() {
  const store = await openStore(':memory:');
  const writes: WriteBatch[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  let failNext: Error | undefined;
  let gate: Promise<void> = Promise.resolve();
  let release = () => {};
  const write = async (batch: WriteBatch): Promise<StoredEvent[]> => {
    writes.push(batch);
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    try {
      await gate;
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      return await store.write(batch);
    } finally {
      inFlight--;
    }
  };
  const wrapped = new Proxy(store, {
    get(target, key) {
      if (key === 'write') return write;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Store;
  return {
    store: wrapped,
    writes,
    /** Writes carrying events (not state checkpoints). */
    eventWrites: () => writes.filter((w) => w.events.length > 0),
    get mostInFlight() {
      return mostInFlight;
    },
    failOnce(err: Error) {
      failNext = err;
    },
    hold() {
      gate = new Promise((r) => (release = r));
    },
    open() {
      release();
    },
  };
}

/** The commit queue as a receiver on SQLite has it: made by the local mode, which reduces what it commits. */
function queueOver(store: Store, over: Partial<ModeCommitOptions> = {}) {
  const phones = new PhoneRegistry();
  const bus = new EventBus();
  const published: BusMessage[] = [];
  bus.subscribe((m) => published.push(m));
  const errors: unknown[] = [];
  const mode = new LocalMode({ store, phones, bus });
  const queue = mode.open({ onError: (err) => errors.push(err), ...over });
  return { queue, mode, phones, published, errors };
}

/** Settles once the promise has; tells whether it did meanwhile. */
function track<T>(p: Promise<T>) {
  const t = { settled: false, promise: p };
  p.then(() => (t.settled = true), () => (t.settled = true));
  return t;
}

const turn = () => new Promise((r) => setImmediate(r));


test('events added together are committed in one write, in the order they were added', { timeout: 30_000 }, async () => {
  const w = await watchedStore();
  const { queue } = queueOver(w.store);
  try {
    const sent = ['001565000001', '001565000002', '001565000003', '001565000001'].map((mac, i) => incident(mac, i % 2 ? 'dnd_on' : 'registered'));
    const stored = await Promise.all(sent.map((e) => queue.addEvent(e)));
    assert.equal(w.eventWrites().length, 1);
    assert.deepEqual(w.eventWrites()[0].events.map((e) => [e.mac, e.incident]), sent.map((e) => [e.mac, e.incident]));
    // Ids follow the order added, and the store reads them back in that order.
    const ids = stored.map((e) => e.id);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids);
    assert.equal(new Set(ids).size, sent.length);
    const back = await w.store.eventsAfter(0, 100);
    assert.deepEqual(back.map((e) => [e.id, e.mac, e.incident]), stored.map((e) => [e.id, e.mac, e.incident]));
  } finally {
    await queue.close();
    await w.store.close();
  }
});

test('a caller hears of its event only once the write holding it is done', { timeout: 30_000 }, async () => {
  const w = await watchedStore();
  const { queue } = queueOver(w.store);
  try {
    w.hold();
    const pending = track(queue.addEvent(incident('001565aabbcc', 'dnd_on')));
    await until('the batch is handed to the store', () => w.writes.length === 1);
    for (let i = 0; i < 20; i++) await turn();
    assert.equal(pending.settled, false);
    assert.equal((await w.store.counts()).events, 0);
    w.open();
    const stored = await pending.promise;
    assert.equal((await w.store.counts()).events, 1);
    assert.deepEqual((await w.store.eventsAfter(0, 10)).map((e) => e.id), [stored.id]);
  } finally {
    w.open();
    await queue.close();
    await w.store.close();
  }
});

test('a failed write rejects its callers, changes no phone, and the next batch still goes', { timeout: 30_000 }, async () => {
  const w = await watchedStore();
  const { queue, phones, published, errors } = queueOver(w.store);
  try {
    const fault = new Error('disk I/O error');
    w.failOnce(fault);
    const lost = [queue.addEvent(incident('001565aabbcc', 'dnd_on')), queue.addRejected({ receivedAt: 1, sourceIp: '10.0.0.9', rawTarget: Buffer.from('/x'), reason: 'unknown path', status: 404, method: 'GET', count: 1 })];
    for (const p of lost) await assert.rejects(p, (err) => err === fault);
    assert.deepEqual(errors, [fault]);
    assert.equal(phones.get('001565aabbcc'), undefined);
    assert.equal(published.length, 0);
    const kept = await queue.addEvent(incident('001565aabbcc', 'registered'));
    assert.deepEqual((await w.store.eventsAfter(0, 10)).map((e) => [e.id, e.incident]), [[kept.id, 'registered']]);
    assert.equal(phones.get('001565aabbcc')?.lastEventId, kept.id);
  } finally {
    await queue.close();
    await w.store.close();
  }
});

test('no write holds more than maxBatch requests', { timeout: 30_000 }, async () => {
  const w = await watchedStore();
  const maxBatch = 3;
  const { queue } = queueOver(w.store, { maxBatch });
  try {
    const sent = Array.from({ length: 2 * maxBatch + 1 }, (_, i) => incident(`0015650000${String(i).padStart(2, '0')}`, 'registered'));
    const stored = await Promise.all(sent.map((e) => queue.addEvent(e)));
    const sizes = w.eventWrites().map((b) => b.events.length);
    assert.ok(sizes.every((n) => n <= maxBatch), `batches of ${sizes.join(', ')}`);
    assert.equal(sizes.reduce((a, b) => a + b, 0), sent.length);
    // Split into batches, the events keep the order they were added in.
    assert.deepEqual(w.eventWrites().flatMap((b) => b.events.map((e) => e.mac)), sent.map((e) => e.mac));
    assert.deepEqual(stored.map((e) => e.mac), sent.map((e) => e.mac));
  } finally {
    await queue.close();
    await w.store.close();
  }
});

test('at most maxInFlight writes are handed to the store at once, and callers hear in order', { timeout: 30_000 }, async () => {
  const w = await watchedStore();
  const maxInFlight = 2;
  const { queue } = queueOver(w.store, { maxBatch: 1, maxInFlight });
  try {
    w.hold();
    const order: string[] = [];
    const sent = Array.from({ length: 5 }, (_, i) => incident(`00156500000${i}`, 'registered'));
    const all = Promise.all(sent.map((e) => queue.addEvent(e).then((s) => (order.push(s.mac), s))));
    await until('the store has as many writes as it may', () => w.writes.length === maxInFlight);
    for (let i = 0; i < 20; i++) await turn();
    assert.equal(w.writes.length, maxInFlight, 'no further write while those are in flight');
    w.open();
    await all;
    assert.equal(w.mostInFlight, maxInFlight);
    assert.deepEqual(order, sent.map((e) => e.mac));
  } finally {
    w.open();
    await queue.close();
    await w.store.close();
  }
});

test('closing commits what is queued, stores the phone states, and refuses what comes after', { timeout: 30_000 }, async () => {
  const w = await watchedStore();
  // Checkpoints far off: only close() can have written the phone's state.
  const { queue, mode } = queueOver(w.store, { delayMs: 60_000, stateFlushMs: 3_600_000 });
  try {
    const queued = queue.addEvent(incident('001565aabbcc', 'dnd_on'));
    await mode.close();
    const stored = await queued;
    assert.deepEqual((await w.store.eventsAfter(0, 10)).map((e) => e.id), [stored.id]);
    const [phone] = await w.store.loadPhones();
    assert.equal(phone.mac, '001565aabbcc');
    assert.equal(phone.dnd, true);
    assert.equal(await w.store.stateCheckpoint(), stored.id);
    await assert.rejects(queue.addEvent(incident('001565aabbcc', 'dnd_off')), /shutting down/);
    assert.equal((await w.store.counts()).events, 1);
  } finally {
    await w.store.close();
  }
});

test('committed events go through the reducer into the live states and the bus; the stored states follow at the checkpoint', { timeout: 30_000 }, async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const w = await watchedStore();
  const stateFlushMs = 5_000;
  const { queue, mode, phones, published } = queueOver(w.store, { stateFlushMs });
  try {
    const mac = '001565aabbcc';
    const first = await queue.addEvent(incident(mac, 'registered'));
    const second = await queue.addEvent(incident(mac, 'dnd_on'));
    const live = phones.get(mac)!;
    assert.equal(live.dnd, true);
    assert.equal(live.lastEventId, second.id);
    const messages = published.filter((m) => m.type === 'event');
    assert.deepEqual(messages.map((m) => m.event.id), [first.id, second.id]);
    assert.equal(messages[1].phone.dnd, true);
    // Not written with the events: the state waits for the checkpoint, and a restart would replay both.
    assert.deepEqual(await w.store.loadPhones(), []);
    assert.equal(mode.checkpointLag, 2);
    mock.timers.tick(stateFlushMs);
    await queue.flush();
    const [stored] = await w.store.loadPhones();
    assert.equal(stored.dnd, true);
    assert.equal(stored.lastEventId, second.id);
    assert.equal(await w.store.stateCheckpoint(), second.id);
    assert.equal(mode.checkpointLag, 0);
  } finally {
    mock.timers.reset();
    await queue.close();
    await w.store.close();
  }
});
