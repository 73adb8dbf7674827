/**
 * Forwarding, put together: the outbox hooks the commit queue calls (which destinations an event goes to,
 * what the receiver concluded from it), one OutboxWorker per destination, the batching of attempt outcomes
 * into the store, the offline sweep, metrics, and what the API and dashboard ask for (destinations and their
 * health, retry, a test event). Each of those jobs is its own part; this wires them:
 * destination-registry.ts (destinations, 410 switch-offs), event-routing.ts, delivery-bodies.ts,
 * delivery-outcomes.ts, offline-sweep.ts, wake-throttle.ts, forwarding-status.ts, lease-keeper.ts.
 *
 * Guarantees (see docs/forwarding.md): an incident's delivery rows are committed with the event, so a crash
 * at any point delivers it after restart, with the same webhook-id. Conclusions (call.ended, …) are stored in
 * the transaction after their event's; a crash before that re-derives them when start-up replays the events
 * after the state checkpoint, and their dedupe key stores them once. Delivery is at least once: an attempt
 * whose outcome was not yet stored when the receiver died is made again.
 *
 * With several receivers on one PostgreSQL, each delivery is sent by the receiver holding the lease on its
 * phone's shard (lease-keeper.ts); every receiver, with or without destinations, tells the others what it
 * forwards to, and differences are logged and shown with the destinations.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallState, PhoneState } from '../domain/types.ts';
import type { CallReads, Deliveries, DeliveryLeases, DestinationInfo, EventReads, NewDelivery, NewEvent, Settings, StoredDelivery, StoredEvent } from '../store/types.ts';
import { deriveConclusions } from './conclusions.ts';
import type { WebhookDestination } from './destinations.ts';
import { channelSpec, DestinationRegistry, webhookSpec, type DestinationSpec } from './destination-registry.ts';
import { DeliveryBodies } from './delivery-bodies.ts';
import { DeliveryOutcomes } from './delivery-outcomes.ts';
import { EventRouting } from './event-routing.ts';
import { clusterInfo, destinationInfo, reportAttempt, reportOutboxDepth, type ClusterInfo, type ForwardingMetrics } from './forwarding-status.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { OfflineSweep, type DerivedRows } from './offline-sweep.ts';
import type { OutboxWorker, DeliveryChannel } from './outbox-worker.ts';
import { testBody, type JsonShapes } from './payloads.ts';
import { STANDARD_SCHEDULE_MS } from './schedule.ts';
import { WakeThrottle } from './wake-throttle.ts';
import type { MqttBridge } from './mqtt-bridge.ts';

export interface ForwarderOptions {
  /** The outbox, the settings that keep destinations switched off, and the events and calls bodies are built from. */
  store: Deliveries & Settings & CallReads & Pick<EventReads, 'eventsByIds'>;
  phones: { get(mac: string): PhoneState | undefined; all(): PhoneState[] };
  logger: Logger;
  metrics: ForwardingMetrics;
  shapes: JsonShapes;
  webhooks: readonly WebhookDestination[];
  offlineAfterMs: number;
  /** Several receivers on one store: who sends which deliveries. Without, this receiver sends them all. */
  leases?: DeliveryLeases;
  now?: () => number;
  random?: () => number;
  /** Webhook retry waits (ms); default Standard Webhooks' schedule. */
  schedule?: readonly number[];
  /** Webhook attempts at once per destination (different phones). Default 8. */
  concurrency?: number;
  /** Deliveries in memory per destination; the rest wait in the store. Default 5000. */
  maxLoaded?: number;
  /** New rows are looked for at most this often (ms). Default WAKE_EVERY_MS. */
  wakeEveryMs?: number;
  /** Attempt outcomes are stored together this often (ms). Default 250. */
  recordEveryMs?: number;
  /** How often phones gone silent are looked for (ms). Default offlineAfterMs / 10, at most 30 s. */
  sweepEveryMs?: number;
  /** The MQTT bridge, when `--mqtt` is set. */
  mqtt?: MqttBridge;
  /**
   * Several receivers on one PostgreSQL: how long a delivery lease lasts without renewal (ms), that is how
   * long a dead receiver's deliveries wait before another receiver takes them over. Default 15 s.
   */
  leaseMs?: number;
}

/** New rows in the store are looked for at most this often (ms); see wake-throttle.ts. */
const WAKE_EVERY_MS = 5;

export class Forwarder {
  private readonly now: () => number;
  private readonly routing = new EventRouting();
  private readonly destinations: DestinationRegistry;
  private readonly bodies: DeliveryBodies;
  private readonly outcomes: DeliveryOutcomes;
  private readonly offline: OfflineSweep;
  private readonly waking: WakeThrottle;
  private readonly keeper: LeaseKeeper | undefined;
  private timers: NodeJS.Timeout[] = [];
  private commits: DerivedRows | undefined;
  private closed = false;
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(private readonly o: ForwarderOptions) {
    this.now = o.now ?? Date.now;
    this.outcomes = new DeliveryOutcomes({ store: o.store, logger: o.logger, now: this.now, recordEveryMs: o.recordEveryMs ?? 250 });
    this.destinations = new DestinationRegistry({
      store: o.store,
      logger: o.logger,
      now: this.now,
      flushOutcomes: () => this.outcomes.flush(),
      sending: () => this.commits !== undefined,
      changed: (enabled) => this.routing.refresh(enabled),
    });
    this.bodies = new DeliveryBodies({ store: o.store, phones: o.phones, shapes: o.shapes, flushCalls: () => this.flushCalls() });
    this.offline = new OfflineSweep({ store: o.store, phones: o.phones, routing: this.routing, offlineAfterMs: o.offlineAfterMs, now: this.now });
    this.waking = new WakeThrottle(o.wakeEveryMs ?? WAKE_EVERY_MS, () => {
      for (const d of this.destinations.enabled()) d.worker.wake();
    });
    const leases = o.leases;
    if (leases) {
      this.keeper = new LeaseKeeper({
        leases,
        holder: this.holder,
        leaseMs: o.leaseMs ?? 15_000,
        destinations: () => this.destinations.all().map((d) => ({ info: d.peer, worker: d.worker, enabled: d.disabledReason === null })),
        flush: () => this.outcomes.flush(),
        now: this.now,
        logger: o.logger,
      });
    }
    const sending = { schedule: o.schedule ?? STANDARD_SCHEDULE_MS, concurrency: o.concurrency ?? 8, now: this.now };
    for (const w of o.webhooks) this.add(webhookSpec(w, sending));
    if (o.mqtt) this.addChannel(o.mqtt).pause(); // until connected
  }

  /** Adds a channel such as the MQTT bridge; before `start`. */
  addChannel(channel: DeliveryChannel): OutboxWorker {
    return this.add(channelSpec(channel, (d) => this.bodies.partsOf(d)));
  }

  get size(): number {
    return this.destinations.size;
  }

  private add(d: DestinationSpec): OutboxWorker {
    return this.destinations.add(d, {
      destination: d.name,
      store: this.o.store,
      send: d.send,
      prepare: (rows) => this.bodies.prepare(rows),
      record: (update, row, attempt) => {
        reportAttempt({ metrics: this.o.metrics, logger: this.o.logger, now: this.now }, d.name, update, row, attempt);
        this.outcomes.add(update);
      },
      onGone: (reason) => void this.destinations.disable(d.name, reason),
      schedule: d.schedule,
      neverDie: d.neverDie,
      concurrency: d.concurrency,
      maxLoaded: this.o.maxLoaded ?? 5000,
      now: this.now,
      random: this.o.random ?? Math.random,
      onError: (err) => this.o.logger.error({ err, destination: d.name }, 'forwarding failed'),
      claimed: this.keeper !== undefined,
      mark: () => this.outcomes.mark(),
      unsaved: (id, mark) => this.outcomes.wasUnsaved(id, mark),
    });
  }

  /** The commit queue's outbox hooks (see OutboxHooks in server/commit-queue.ts). */
  readonly hooks = {
    route: (event: NewEvent): readonly string[] | undefined => this.routing.route(event),
    derive: (before: PhoneState | undefined, after: PhoneState, changedCalls: readonly CallState[], event: StoredEvent | undefined) => {
      if (this.destinations.size === 0) return undefined;
      if (event) this.bodies.remember(event, after);
      if (!this.routing.wantsConclusions) return undefined;
      const found = deriveConclusions(before, after, changedCalls, event, this.o.offlineAfterMs, this.o.shapes, this.now());
      return found.length ? this.routing.conclusionRows(found) : undefined;
    },
    stored: () => this.wakeAll(),
  };

  /**
   * Reads what earlier runs left in the store's settings: destinations switched off by a 410, and the
   * offline mark. Before the commit queue replays events, so replayed conclusions skip switched-off ones.
   */
  async load(): Promise<void> {
    await this.destinations.load();
    await this.offline.load();
  }

  /**
   * Starts sending what the store holds; `commits` stores derived rows, `subscribe` tells of each commit (and
   * of phone states changed without an event) with the phone's new state.
   */
  start(commits: DerivedRows, subscribe: (listener: (message: { phone: PhoneState }) => void) => void): void {
    this.commits = commits;
    // Before the check below: a receiver without destinations tells the others so too.
    this.keeper?.start();
    if (this.destinations.size === 0) return;
    let wakeScheduled = false;
    const mqtt = this.o.mqtt;
    if (mqtt) {
      const worker = this.destinations.get(mqtt.name)!.worker;
      mqtt.start((connected) => (connected ? worker.resume() : worker.pause()));
    }
    subscribe((message) => {
      mqtt?.phoneChanged(message.phone);
      if (wakeScheduled) return;
      wakeScheduled = true;
      setImmediate(() => {
        wakeScheduled = false;
        this.wakeAll();
      });
    });
    this.offline.start();
    this.every(this.o.sweepEveryMs ?? Math.min(30_000, Math.max(1000, this.o.offlineAfterMs / 10)), async () => {
      await this.sweepOffline();
      await mqtt?.sweepAvailability();
    });
    this.every(5_000, () => reportOutboxDepth(this.o.store, this.o.metrics, this.destinations.all().map((d) => d.name)));
    void this.sweepOffline().catch((err) => this.o.logger.error({ err }, 'forwarding task failed'));
    this.wakeAll();
  }

  private every(ms: number, task: () => unknown): void {
    const t = setInterval(() => {
      try {
        const r = task();
        if (r instanceof Promise) r.catch((err) => this.o.logger.error({ err }, 'forwarding task failed'));
      } catch (err) {
        this.o.logger.error({ err }, 'forwarding task failed');
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Phones silent for the offline threshold: phone.offline (see offline-sweep.ts). */
  async sweepOffline(): Promise<void> {
    if (this.commits) await this.offline.sweep(this.commits);
  }

  /** New rows may be in the store: each destination reads them (at most once per `wakeEveryMs`). */
  wakeAll(): void {
    this.waking.request();
  }

  /**
   * Makes the call log include every event committed so far (the composition root sets it to the commit
   * queue's state flush), so a call.ended can carry the call's id in it.
   */
  flushCalls: () => Promise<void> = async () => {};

  /** Stores the outcomes gathered so far; resolves once they (and earlier ones) are stored. */
  flushUpdates(): Promise<void> {
    return this.outcomes.flush();
  }

  /**
   * `POST /api/v1/destinations/<name>/enable`: a destination switched off by a 410 takes deliveries again
   * (from the next event on; dead ones stay dead until retried). False: no such destination.
   */
  enable(name: string): Promise<boolean> {
    return this.destinations.enable(name);
  }

  /** Forwarding across receivers; null with a store only this receiver uses. */
  clusterInfo(): ClusterInfo | null {
    return this.keeper ? clusterInfo(this.keeper, this.holder, this.destinations.all()) : null;
  }

  destinationsInfo(): DestinationInfo[] {
    return this.destinations.all().map(destinationInfo);
  }

  /**
   * `POST /api/v1/deliveries/<id>/retry`: makes a delivery (dead, failed, or even delivered) pending and
   * sends it again, with the same webhook-id. Undefined: no such delivery.
   */
  async retry(id: number): Promise<StoredDelivery | undefined> {
    await this.outcomes.flush();
    const row = await this.o.store.retryDelivery(id, this.now());
    if (!row) return undefined;
    const d = this.destinations.get(row.destination);
    if (d && d.disabledReason === null) d.worker.inject({ ...row });
    return row;
  }

  /** The body `row` sends: its own, or built again from its event (a delivered incident keeps none). */
  bodyOf(row: StoredDelivery): Promise<string | null> {
    return this.bodies.bodyOf(row);
  }

  /** The dashboard's "send a test event": a stored delivery like any other. False: no such destination. */
  async sendTest(name: string): Promise<boolean> {
    if (!this.destinations.get(name) || !this.commits) return false;
    const now = this.now();
    const row: NewDelivery = { destination: name, type: 'actionurl.test', mac: '', eventId: null, createdAt: now, body: testBody(name, now), dedupeKey: null };
    this.commits.addDeliveries([row]);
    await this.commits.flush();
    return true;
  }

  /** Resolves when every destination has nothing it could send right now (tests). */
  async idle(): Promise<void> {
    this.waking.hurry();
    await Promise.all(this.destinations.all().map((d) => d.worker.idle()));
    await this.outcomes.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.outcomes.close();
    await this.keeper?.stop();
    for (const t of this.timers) clearInterval(t);
    this.waking.close();
    // Closing the senders first ends attempts in flight (a destination that never answers must not hold
    // up shutdown); their deliveries stay pending and go out after the next start.
    const all = this.destinations.all();
    for (const d of all) d.close();
    await Promise.all(all.map((d) => d.worker.stop()));
    await this.outcomes.flush();
    // Outcomes stored: the other receivers may take this one's shards over at once.
    await this.keeper?.leave().catch((err) => this.o.logger.warn({ err }, 'giving back forwarding leases failed; other receivers take over when they run out'));
    await this.o.mqtt?.close();
  }
}
