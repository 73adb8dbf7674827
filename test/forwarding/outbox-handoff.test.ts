/**
 * A receiver alone on its SQLite store hands each commit's delivery rows to the outbox worker from memory
 * instead of reading the outbox back after every commit. On a real in-memory store: what is sent is what
 * a read would have sent (every row once, with its stored id, each phone in commit order), the outbox is
 * read once while every commit's rows are known, and read again when a commit's rows are not known or
 * more rows come than the worker holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryOutcomes } from '../../src/forwarding/delivery-outcomes.ts';
import { OutboxWorker } from '../../src/forwarding/outbox-worker.ts';
import type { NewEvent, Store, StoredDelivery } from '../../src/store/types.ts';
import { answer, fakeDestination, incident, memoryStore, silent, workerOptions } from './helpers/parts.ts';
import { until } from './helpers/until.ts';

const PHONES = ['001565aa0001', '001565bb0002', '001565cc0003'];

interface Run {
  store: Store;
  worker: OutboxWorker;
  /** Delivery ids in the order their attempts started, per phone. */
  sentByPhone: Map<string, number[]>;
  /** How often the worker read the outbox. */
  reads: () => number;
  /** Stores events for crm and tells the worker as a commit does: the rows it wrote, or that they are unknown. */
  commit(events: NewEvent[], tell: 'rows' | 'unknown'): Promise<void>;
}

async function withWorker(maxLoaded: number, run: (r: Run) => Promise<void>): Promise<void> {
  const store = await memoryStore();
  const outcomes = new DeliveryOutcomes({ store, logger: silent, now: Date.now, recordEveryMs: 10 });
  let reads = 0;
  const counted = {
    deliveriesDue: (...args: Parameters<Store['deliveriesDue']>) => {
      reads++;
      return store.deliveriesDue(...args);
    },
  };
  const sentByPhone = new Map<string, number[]>();
  const send = async (d: StoredDelivery) => {
    sentByPhone.set(d.mac, [...(sentByPhone.get(d.mac) ?? []), d.id]);
    // Later phones' answers come back first: order is only promised per phone.
    await new Promise((r) => setTimeout(r, PHONES.indexOf(d.mac)));
    return answer(200);
  };
  const worker = new OutboxWorker({ ...workerOptions(store, outcomes, fakeDestination('crm', send), { maxLoaded, handedOff: true }), store: counted });
  try {
    await run({
      store,
      worker,
      sentByPhone,
      reads: () => reads,
      async commit(events, tell) {
        let rows: readonly StoredDelivery[] | undefined;
        await store.write({ events, rejected: [], routes: events.map(() => ['crm']), written: (r) => (rows = r) });
        worker.handOff(tell === 'rows' ? rows : undefined);
        worker.wake();
      },
    });
    await worker.stop();
    await outcomes.flush();
  } finally {
    outcomes.close();
    await store.close();
  }
}

const eventsAt = (start: number, n: number) => Array.from({ length: n }, (_, i) => incident(PHONES[(start + i) % PHONES.length], 'dnd_on', 1000 + start + i));

/** Every delivery row of crm in the store, by phone, in id (commit) order, and whether all were delivered. */
async function storedByPhone(store: Store): Promise<{ ids: Map<string, number[]>; allDelivered: boolean }> {
  const rows = await store.deliveries({ destination: 'crm', limit: 1000 });
  const ids = new Map<string, number[]>();
  for (const r of [...rows].sort((a, b) => a.id - b.id)) ids.set(r.mac, [...(ids.get(r.mac) ?? []), r.id]);
  return { ids, allDelivered: rows.every((r) => r.state === 'delivered') };
}

const sentCount = (r: Run) => [...r.sentByPhone.values()].reduce((n, ids) => n + ids.length, 0);

test('rows handed over from memory are each sent once, in each phone\'s commit order, without reading the outbox after every commit', { timeout: 20_000 }, async () => {
  await withWorker(100, async (r) => {
    await r.commit(eventsAt(0, 4), 'unknown');
    await until('the first rows sent', () => sentCount(r) === 4);
    const readsBefore = r.reads();
    for (let batch = 1; batch <= 10; batch++) await r.commit(eventsAt(batch * 4, 4), 'rows');
    await until('every handed row sent', () => sentCount(r) === 44);
    await r.worker.idle();
    assert.ok(r.reads() - readsBefore <= 1, `the outbox was read ${r.reads() - readsBefore} times for 10 commits whose rows were handed over`);
    await until('every outcome stored', async () => (await storedByPhone(r.store)).allDelivered);
    assert.deepEqual(r.sentByPhone, (await storedByPhone(r.store)).ids);
  });
});

test('a commit whose rows are not known, and more rows than the worker holds, are read from the store and all sent in order', { timeout: 20_000 }, async () => {
  await withWorker(8, async (r) => {
    await r.commit(eventsAt(0, 3), 'unknown');
    await until('the first rows sent', () => sentCount(r) === 3);
    await r.commit(eventsAt(3, 3), 'rows');
    await r.commit(eventsAt(6, 3), 'unknown');
    // More at once than the worker holds (8): the rest wait in the store.
    await r.commit(eventsAt(9, 20), 'rows');
    await r.commit(eventsAt(29, 3), 'rows');
    await until('every row sent', () => sentCount(r) === 32);
    await until('every outcome stored', async () => (await storedByPhone(r.store)).allDelivered);
    assert.deepEqual(r.sentByPhone, (await storedByPhone(r.store)).ids);
  });
});
