/**
 * Attempt outcomes stored in batches, on a real in-memory SQLite store with a fake clock: they reach the
 * store together, and when the store refuses them they are kept and stored again a second later, so a
 * delivery made meanwhile is neither lost nor sent twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryOutcomes } from '../../src/forwarding/delivery-outcomes.ts';
import type { DeliveryUpdate, Store, StoredDelivery } from '../../src/store/types.ts';
import { incident, memoryStore, silent } from './helpers/parts.ts';
import { FakeClock } from './helpers/fake-clock.ts';

const MAC = '001565aa0001';
const RECORD_EVERY_MS = 250;

async function pendingRows(store: Store, n: number): Promise<StoredDelivery[]> {
  const events = Array.from({ length: n }, (_, i) => incident(MAC, 'dnd_on', 1000 + i));
  await store.write({ events, rejected: [], routes: events.map(() => ['crm']) });
  return store.deliveriesDue('crm', 0, 100);
}

const delivered = (row: StoredDelivery, at: number, attempts = 1): DeliveryUpdate => ({
  id: row.id, state: 'delivered', attempts, nextAt: at, lastError: null, lastStatus: 200, lastAttemptAt: at, deliveredAt: at, body: null,
});
const failed = (row: StoredDelivery, at: number): DeliveryUpdate => ({
  id: row.id, state: 'failed', attempts: 1, nextAt: at + 5000, lastError: 'HTTP 500', lastStatus: 500, lastAttemptAt: at, deliveredAt: null, body: null,
});

const stateOf = async (store: Store, row: StoredDelivery) => (await store.delivery(row.id))!.state;

test('outcomes of several attempts reach the store together once the batch interval passed', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  const clock = new FakeClock();
  try {
    const outcomes = new DeliveryOutcomes({ store, logger: silent, now: clock.now, recordEveryMs: RECORD_EVERY_MS });
    const [a, b] = await pendingRows(store, 2);
    outcomes.add(delivered(a, clock.now()));
    clock.advance(RECORD_EVERY_MS - 1);
    outcomes.add(delivered(b, clock.now()));
    assert.deepEqual([await stateOf(store, a), await stateOf(store, b)], ['pending', 'pending'], 'not yet stored');
    clock.advance(1);
    await outcomes.flush();
    assert.deepEqual([await stateOf(store, a), await stateOf(store, b)], ['delivered', 'delivered']);
  } finally {
    clock.stop();
    await store.close();
  }
});

test('outcomes the store refused are stored a second later; until then the delivery is not taken as due again', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  const clock = new FakeClock();
  try {
    let refuse = true;
    const flaky = {
      updateDeliveries: async (u: readonly DeliveryUpdate[]) => {
        if (refuse) throw new Error('SQLITE_FULL: database or disk is full');
        await store.updateDeliveries(u);
      },
    };
    const outcomes = new DeliveryOutcomes({ store: flaky, logger: silent, now: clock.now, recordEveryMs: RECORD_EVERY_MS });
    const [row] = await pendingRows(store, 1);
    const readStarted = outcomes.mark(); // a read of the outbox begins: it sees the row as due
    outcomes.add(failed(row, clock.now()));
    await outcomes.flush();
    assert.equal(await stateOf(store, row), 'pending', 'the store took nothing');
    assert.equal(outcomes.wasUnsaved(row.id, readStarted), true, 'a read of the outbox meanwhile must not send it again');
    // The attempt after it, recorded while the store is still away: the newer outcome is the one stored.
    outcomes.add(delivered(row, clock.now(), 2));
    refuse = false;
    clock.advance(999);
    assert.equal(await stateOf(store, row), 'pending');
    clock.advance(1);
    await outcomes.flush();
    const stored = (await store.delivery(row.id))!;
    assert.deepEqual([stored.state, stored.attempts], ['delivered', 2]);
    assert.equal(outcomes.wasUnsaved(row.id, readStarted), true, 'a read begun before it was stored may still have seen it due');
    assert.equal(outcomes.wasUnsaved(row.id, outcomes.mark()), false, 'a read begun after it was stored sees it delivered');
  } finally {
    clock.stop();
    await store.close();
  }
});

test('when stopping, outcomes the store refuses are given up (those deliveries are made again after a restart)', { timeout: 10_000 }, async () => {
  const store = await memoryStore();
  const clock = new FakeClock();
  try {
    let calls = 0;
    const refusing = {
      updateDeliveries: async () => {
        calls++;
        throw new Error('connection terminated');
      },
    };
    const outcomes = new DeliveryOutcomes({ store: refusing, logger: silent, now: clock.now, recordEveryMs: RECORD_EVERY_MS });
    const [row] = await pendingRows(store, 1);
    outcomes.close();
    outcomes.add(delivered(row, clock.now()));
    await outcomes.flush();
    clock.advance(60_000);
    await outcomes.flush();
    assert.equal(calls, 1, 'not tried again');
    assert.equal(outcomes.wasUnsaved(row.id, outcomes.mark()), false);
    assert.equal(await stateOf(store, row), 'pending', 'still due at the next start');
  } finally {
    clock.stop();
    await store.close();
  }
});
