/**
 * The local mode (SQLite) without sockets, on a real in-memory store: a start replays exactly the events
 * after the last state checkpoint; a phone forgotten while its checkpoint waits for its turn is never
 * written back; calls closed by the clock are published and stored with the next checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../../src/store/open.ts';
import type { NewEvent, Store, StoredEvent, WriteBatch } from '../../../src/store/types.ts';
import { LocalMode } from '../../../src/server/mode/local.ts';
import { PhoneRegistry } from '../../../src/server/phones.ts';
import { EventBus, type BusMessage } from '../../../src/server/bus.ts';

const MAC = '001565aabbcc';

function incident(slug: string, extra: Record<string, string> = {}, mac = MAC, at = 1_700_000_000_000): NewEvent {
  return { receivedAt: at, mac, incident: slug, vars: { mac, ...extra }, extra: {}, rawTarget: Buffer.from(`/actionurl/${slug}?mac=${mac}`), sourceIp: '10.0.0.1' };
}

function modeOver(store: Store) {
  const phones = new PhoneRegistry();
  const bus = new EventBus();
  const published: BusMessage[] = [];
  bus.subscribe((m) => published.push(m));
  const mode = new LocalMode({ store, phones, bus });
  return { mode, phones, published };
}

test('a start replays the events stored after the last checkpoint, and only those, into the phone states', { timeout: 30_000 }, async () => {
  const store = await openStore(':memory:');
  try {
    const first = modeOver(store);
    await first.mode.loadStates();
    first.mode.open({ stateFlushMs: 3_600_000 });
    const registered = await first.mode.commits.addEvent(incident('registered'));
    await first.mode.flushState();
    assert.equal(await store.stateCheckpoint(), registered.id);
    // Stored after the checkpoint, as if the process had died before the next one.
    await store.write({ events: [incident('dnd_on'), incident('incoming_call', { call_id: '7', display_remote: 'Ana' })], rejected: [] });

    const again = modeOver(store);
    await again.mode.loadStates();
    assert.equal(again.phones.get(MAC)?.dnd, false, 'the stored state is the checkpoint\'s');
    again.mode.open({ stateFlushMs: 3_600_000 });
    assert.equal(await again.mode.catchUp(), 2);
    const phone = again.phones.get(MAC)!;
    assert.equal(phone.dnd, true);
    assert.equal(phone.calls[0]?.displayRemote, 'Ana');
    assert.equal(again.mode.checkpointLag, 0, 'the replayed states are stored at once');
    const [stored] = await store.loadPhones();
    assert.equal(stored.dnd, true);
    await again.mode.close();
  } finally {
    await store.close();
  }
});

test('a phone forgotten while its checkpoint waits for its turn is not written back', { timeout: 30_000 }, async () => {
  const real = await openStore(':memory:');
  let release = () => {};
  let hold: Promise<void> | undefined;
  const writes: WriteBatch[] = [];
  const store = new Proxy(real, {
    get(target, key) {
      if (key === 'write') {
        return async (batch: WriteBatch): Promise<StoredEvent[]> => {
          writes.push(batch);
          if (hold && batch.events.length) await hold;
          return target.write(batch);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Store;
  try {
    const { mode, phones } = modeOver(store);
    mode.open({ stateFlushMs: 3_600_000, maxInFlight: 1 });
    await mode.commits.addEvent(incident('incoming_call', { call_id: '1' }));
    // An event write in flight holds the queue: the checkpoint waits behind it.
    hold = new Promise((r) => (release = r));
    const other = mode.commits.addEvent(incident('registered', {}, '001565000002'));
    const checkpoint = mode.flushState();
    await mode.forget(MAC, false).catch(() => {}); // queued behind the held write too
    assert.equal(phones.get(MAC), undefined, 'gone from memory at once');
    release();
    await Promise.all([other, checkpoint]);
    await mode.flushState();
    await mode.close();
    assert.deepEqual((await real.loadPhones()).map((p) => p.mac), ['001565000002'], 'not written back by the waiting checkpoint');
    const callsWritten = writes.flatMap((w) => w.calls ?? []).map((c) => c.mac);
    assert.ok(!callsWritten.includes(MAC), `no call of the forgotten phone was written: ${callsWritten.join(', ')}`);
  } finally {
    await real.close();
  }
});

test('calls closed by the clock are published and stored with the next checkpoint', { timeout: 30_000 }, async () => {
  const store = await openStore(':memory:');
  try {
    const { mode, phones, published } = modeOver(store);
    mode.open({ stateFlushMs: 3_600_000 });
    const at = 1_700_000_000_000;
    await mode.commits.addEvent(incident('call_established', { call_id: '9' }, MAC, at));
    assert.equal(phones.get(MAC)?.presence, 'talking');
    assert.equal(await mode.expireCalls(at + 59_000, 60_000), 0, 'not yet silent long enough');
    assert.equal(await mode.expireCalls(at + 61_000, 60_000), 1);
    assert.equal(phones.get(MAC)?.presence, 'idle');
    assert.equal(published.at(-1)?.type, 'phone');
    assert.ok(mode.unsavedState > 0);
    await mode.flushState();
    const [call] = await store.calls({ limit: 1 });
    assert.equal(call.call.endedBy, 'timeout');
    await mode.close();
  } finally {
    await store.close();
  }
});
