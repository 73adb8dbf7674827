/**
 * The bound the local mode's state checkpoints keep: under a steady stream of events (calls on hundreds of
 * phones, no checkpoint by the clock) the checkpoint lag, which is what a restart would replay, never goes
 * past the bound, even when the store takes several turns of the event loop for each checkpoint part; and a
 * receiver started on the store at that point replays at most the bound and has the same phones.
 * LocalMode on a real in-memory SQLite store, driven by counts of events, not by time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/open.ts';
import type { NewEvent, Store, StoredEvent, WriteBatch } from '../../src/store/types.ts';
import { LocalMode } from '../../src/server/mode/local.ts';
import { PhoneRegistry } from '../../src/server/phones.ts';
import { EventBus } from '../../src/server/bus.ts';

const PHONES = 300;
const EVENTS = 6_000;
const BOUND = 600;
const AT = 1_700_000_000_000;

/** The i-th event of the stream: each phone in turn rings, answers, hangs up (a new call id each time). */
function nth(i: number): NewEvent {
  const mac = `001565${(0xa00000 + (i % PHONES)).toString(16)}`;
  const round = Math.floor(i / PHONES);
  const incident = ['incoming_call', 'call_established', 'call_terminated'][round % 3];
  const vars = { mac, call_id: String(Math.floor(round / 3)), local: 'sip:201@pbx.example.com', remote: 'sip:300@pbx.example.com' };
  return { receivedAt: AT + i, mac, incident, vars, extra: {}, rawTarget: Buffer.from(`/actionurl/${incident}?mac=${mac}`), sourceIp: '10.0.0.1' };
}

/** The store, with each checkpoint part (phones or calls, no events) taking a few turns of the event loop. */
function slowCheckpoints(store: Store): Store {
  const write = async (batch: WriteBatch): Promise<StoredEvent[]> => {
    if (batch.events.length === 0 && (batch.phones?.length || batch.calls?.length)) {
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    return store.write(batch);
  };
  return new Proxy(store, {
    get(target, key) {
      if (key === 'write') return write;
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function localMode(store: Store) {
  const phones = new PhoneRegistry();
  const bus = new EventBus();
  const mode = new LocalMode({ store, phones, bus });
  // No checkpoint by the clock: only the lag can start one.
  const queue = mode.open({ stateFlushMs: 3_600_000, checkpointLagBound: BOUND, maxBatch: 25 });
  return { mode, queue, phones, bus };
}

const byMac = (phones: PhoneRegistry) => [...phones.values()].sort((a, b) => a.mac.localeCompare(b.mac));

test('under a steady stream the checkpoint lag stays within the bound, and a restart replays at most the bound', { timeout: 120_000 }, async () => {
  const base = await openStore(':memory:');
  const store = slowCheckpoints(base);
  const live = localMode(store);
  try {
    assert.equal(live.mode.checkpointLagBound, BOUND);
    let highest = 0;
    live.bus.subscribe((m) => {
      if (m.type === 'event') highest = Math.max(highest, live.mode.checkpointLag);
    });
    // A steady stream: 100 requests waiting at any time, each answered one replaced by the next.
    let sent = 0;
    const sender = async () => {
      while (sent < EVENTS) await live.queue.addEvent(nth(sent++));
    };
    await Promise.all(Array.from({ length: 100 }, sender));
    assert.ok(highest <= BOUND, `the lag reached ${highest} events (bound ${BOUND})`);
    // It was a real load for the bound: many times the bound went through, so checkpoints were stored meanwhile.
    assert.ok((await base.stateCheckpoint()) >= EVENTS - BOUND, `newest checkpoint at event ${await base.stateCheckpoint()} of ${EVENTS}`);

    // What a restart now finds: the stored checkpoint and the events after it.
    const restarted = localMode(store);
    await restarted.mode.loadStates();
    const replayed = await restarted.mode.catchUp();
    assert.ok(replayed <= BOUND, `a restart replayed ${replayed} events (bound ${BOUND})`);
    assert.deepEqual(byMac(restarted.phones), byMac(live.phones));
    await restarted.mode.close();
  } finally {
    await live.mode.close();
    await base.close();
  }
});
