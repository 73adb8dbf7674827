/**
 * One destination's outbox worker over a real in-memory SQLite store, with a fake clock and the
 * destination's answers given by the test: the retry schedule, Retry-After, dead after the last attempt,
 * and each phone's deliveries in commit order while one of them is retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryOutcomes } from '../../src/forwarding/delivery-outcomes.ts';
import { OutboxWorker } from '../../src/forwarding/outbox-worker.ts';
import { judgeResponse } from '../../src/forwarding/schedule.ts';
import type { Store, StoredDelivery } from '../../src/store/types.ts';
import { FakeClock } from './helpers/fake-clock.ts';
import { answer, fakeDestination, incident, memoryStore, silent, workerOptions } from './helpers/parts.ts';

const A = '001565aa0001';
const B = '001565bb0002';

interface Setup {
  store: Store;
  clock: FakeClock;
  worker: OutboxWorker;
  outcomes: DeliveryOutcomes;
  /** Deliveries in the order they were attempted, as `<mac>#<n>` (the phone's n-th event). */
  sent: string[];
  /** Each delivery's label. */
  labels: Map<number, string>;
}

/**
 * Stores `events` (per phone, how many) for destination crm and starts its worker with `schedule`; `reply`
 * answers an attempt at a delivery labelled `<mac>#<n>`, knowing how many attempts it had before.
 */
async function setUp(events: Record<string, number>, schedule: readonly number[], reply: (label: string, attemptsBefore: number, now: number) => ReturnType<typeof answer>, run: (s: Setup) => Promise<void>): Promise<void> {
  const store = await memoryStore();
  const clock = new FakeClock();
  try {
    const written = Object.entries(events).flatMap(([mac, n]) => Array.from({ length: n }, (_, i) => ({ mac, label: `${mac}#${i + 1}` })));
    const stored = await store.write({ events: written.map((w, i) => incident(w.mac, 'dnd_on', clock.now() - 1000 + i)), rejected: [], routes: written.map(() => ['crm']) });
    const byEvent = new Map(stored.map((e, i) => [e.id, written[i].label]));
    const labels = new Map((await store.deliveriesDue('crm', 0, 100)).map((d) => [d.id, byEvent.get(d.eventId!)!]));
    const sent: string[] = [];
    const outcomes = new DeliveryOutcomes({ store, logger: silent, now: clock.now, recordEveryMs: 250 });
    const send = async (d: StoredDelivery) => {
      const label = labels.get(d.id)!;
      sent.push(label);
      return reply(label, d.attempts, clock.now());
    };
    const worker = new OutboxWorker(workerOptions(store, outcomes, { ...fakeDestination('crm', send), schedule }, { now: clock.now }));
    await run({ store, clock, worker, outcomes, sent, labels });
    await worker.stop();
  } finally {
    clock.stop();
    await store.close();
  }
}

async function stored(s: Setup, label: string): Promise<StoredDelivery> {
  await s.outcomes.flush();
  const id = [...s.labels].find(([, l]) => l === label)![0];
  return (await s.store.delivery(id))!;
}

test("a failed delivery is tried again after the schedule's wait, and its phone's next delivery waits for it", { timeout: 10_000 }, async () => {
  const schedule = [0, 60_000, 60_000];
  await setUp({ [A]: 2, [B]: 1 }, schedule, (label, before) => answer(label === `${A}#1` && before === 0 ? 503 : 200), async (s) => {
    s.worker.wake();
    await s.worker.idle();
    assert.deepEqual(s.sent, [`${A}#1`, `${B}#1`], "the other phone goes ahead; this phone's next one waits");
    s.clock.advance(schedule[1] - 1);
    await s.worker.idle();
    assert.equal(s.sent.length, 2, 'not before the wait is over');
    s.clock.advance(1);
    await s.worker.idle();
    assert.deepEqual(s.sent, [`${A}#1`, `${B}#1`, `${A}#1`, `${A}#2`]);
    const first = await stored(s, `${A}#1`);
    assert.deepEqual([first.state, first.attempts, first.lastStatus], ['delivered', 2, 200]);
  });
});

test('a delivery is dead after the last attempt of the schedule; the phone\'s next one then goes', { timeout: 10_000 }, async () => {
  const schedule = [0, 30_000];
  await setUp({ [A]: 2 }, schedule, (label) => answer(label === `${A}#1` ? 500 : 200), async (s) => {
    s.worker.wake();
    await s.worker.idle();
    s.clock.advance(schedule[1]);
    await s.worker.idle();
    assert.deepEqual(s.sent, [`${A}#1`, `${A}#1`, `${A}#2`], 'as many attempts as the schedule has waits');
    const dead = await stored(s, `${A}#1`);
    assert.deepEqual([dead.state, dead.attempts, dead.lastStatus, dead.lastError], ['dead', schedule.length, 500, 'HTTP 500']);
    assert.equal((await stored(s, `${A}#2`)).state, 'delivered');
  });
});

test("a destination's Retry-After is waited for instead of the schedule's wait", { timeout: 10_000 }, async () => {
  const schedule = [0, 1000, 1000];
  const retryAfterSeconds = 120;
  await setUp({ [A]: 1 }, schedule, (_label, before, now) =>
    before === 0 ? { verdict: judgeResponse(429, String(retryAfterSeconds), now), status: 429 } : answer(200), async (s) => {
    s.worker.wake();
    await s.worker.idle();
    s.clock.advance(schedule[1]);
    await s.worker.idle();
    assert.equal(s.sent.length, 1, 'the schedule would have tried again by now');
    s.clock.advance(retryAfterSeconds * 1000 - schedule[1]);
    await s.worker.idle();
    assert.equal(s.sent.length, 2);
    assert.equal((await stored(s, `${A}#1`)).state, 'delivered');
  });
});

test('a paused destination (its broker away) sends nothing until it is resumed, then at once', { timeout: 10_000 }, async () => {
  await setUp({ [A]: 1, [B]: 1 }, [0, 1000], () => answer(200), async (s) => {
    s.worker.pause();
    s.worker.wake();
    await s.worker.idle();
    assert.deepEqual(s.sent, []);
    s.worker.resume();
    await s.worker.idle();
    assert.deepEqual(s.sent.sort(), [`${A}#1`, `${B}#1`]);
  });
});
