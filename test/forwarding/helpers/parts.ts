/**
 * Forwarding's parts put together for tests without sockets or a running receiver: a real in-memory SQLite
 * store, destinations whose "sending" is a function the test gives, and the registry, routing and outcome
 * batching the forwarder wires the same way.
 */
import pino from 'pino';
import { openStore } from '../../../src/store/open.ts';
import type { NewEvent, Store, StoredDelivery } from '../../../src/store/types.ts';
import { DestinationRegistry, type DestinationSpec } from '../../../src/forwarding/destination-registry.ts';
import { DeliveryOutcomes } from '../../../src/forwarding/delivery-outcomes.ts';
import { EventRouting } from '../../../src/forwarding/event-routing.ts';
import { SELECT_ALL, type EventSelector } from '../../../src/forwarding/destinations.ts';
import type { Attempt, OutboxWorkerOptions } from '../../../src/forwarding/outbox-worker.ts';
import { judgeResponse } from '../../../src/forwarding/schedule.ts';

export const silent = pino({ level: 'silent' });

export const memoryStore = (): Promise<Store> => openStore(':memory:');

export function incident(mac: string, slug: string, at: number): NewEvent {
  return { receivedAt: at, mac, incident: slug, vars: { mac }, extra: {}, rawTarget: Buffer.from(`/actionurl/${slug}?mac=${mac}`), sourceIp: '10.0.0.1' };
}

/** What a webhook answering `status` comes to. */
export const answer = (status: number, now = Date.now()): Attempt => ({ verdict: judgeResponse(status, undefined, now), status });

/** A destination sent to by `send` (default: every attempt answered 200). */
export function fakeDestination(name: string, send: (d: StoredDelivery) => Promise<Attempt> = async () => answer(200), select: EventSelector = SELECT_ALL): DestinationSpec {
  return { name, kind: 'webhook', target: `https://${name}.example/hook`, address: name, select, settings: name, schedule: [0, 1000], concurrency: 4, send, connected: () => true, close: () => {} };
}

/** Outbox worker options as the forwarder makes them; bodies are left as stored. */
export function workerOptions(store: Store, outcomes: DeliveryOutcomes, spec: DestinationSpec, over: Partial<OutboxWorkerOptions> = {}): OutboxWorkerOptions {
  return {
    destination: spec.name,
    store,
    send: spec.send,
    prepare: async () => {},
    record: (update) => outcomes.add(update),
    onGone: () => {},
    schedule: spec.schedule,
    concurrency: spec.concurrency,
    maxLoaded: 100,
    now: Date.now,
    random: () => 0.5,
    onError: (err) => {
      throw err;
    },
    mark: () => outcomes.mark(),
    unsaved: (id, mark) => outcomes.wasUnsaved(id, mark),
    ...over,
  };
}

/** One run of forwarding over `store`: what a receiver has between its start and its stop. */
export function forwardingRun(store: Store, specs: readonly DestinationSpec[]) {
  const routing = new EventRouting();
  const outcomes = new DeliveryOutcomes({ store, logger: silent, now: Date.now, recordEveryMs: 10 });
  const registry = new DestinationRegistry({
    store,
    logger: silent,
    now: Date.now,
    flushOutcomes: () => outcomes.flush(),
    sending: () => true,
    changed: (enabled) => routing.refresh(enabled),
  });
  for (const spec of specs) {
    registry.add(spec, workerOptions(store, outcomes, spec, { onGone: (reason) => void registry.disable(spec.name, reason) }));
  }
  return {
    routing,
    registry,
    outcomes,
    /** Stores `events` with the delivery rows routing gives them, then tells the workers (as a commit does). */
    async commit(...events: NewEvent[]) {
      await store.write({ events, rejected: [], routes: events.map((e) => routing.route(e)) });
      for (const d of registry.enabled()) d.worker.wake();
    },
    async stop() {
      await Promise.all(registry.all().map((d) => d.worker.stop()));
      await outcomes.flush();
    },
  };
}
