/**
 * Forwarding, put together: the outbox hooks the commit queue calls (which destinations an event goes to,
 * what the receiver concluded from it), one OutboxWorker per destination, the batching of attempt outcomes
 * into the store, the offline sweep, metrics, and what the API and dashboard ask for (destinations and their
 * health, retry, a test event).
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
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CallState, PhoneState } from '../domain/types.ts';
import type { DeliveryUpdate, DestinationInfo, NewDelivery, NewEvent, Store, StoredDelivery, StoredEvent } from '../store/types.ts';
import { deriveConclusions, offlineConclusions, type Conclusion } from './conclusions.ts';
import { MQTT_DESTINATION, selects, type EventSelector, type WebhookDestination } from './destinations.ts';
import { OutboxWorker, type Attempt, type DeliveryChannel, type OutboxWorkerOptions } from './outbox-worker.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { describeDestination, type PeerDestination } from './lease-plan.ts';
import { conclusionBody, incidentBody, testBody, webhookId, type JsonShapes } from './payloads.ts';
import { STANDARD_SCHEDULE_MS } from './schedule.ts';
import { WebhookSender } from './webhook-sender.ts';
import type { MqttBridge } from './mqtt-bridge.ts';

export interface ForwardingMetrics {
  deliveries: { inc(labels: Record<string, string>): void };
  outboxDepth: { set(value: number, labels: Record<string, string>): void };
  deliverySeconds: { observe(value: number): void };
}


export interface ForwarderOptions {
  store: Store;
  phones: { get(mac: string): PhoneState | undefined; all(): PhoneState[] };
  logger: Logger;
  metrics: ForwardingMetrics;
  shapes: JsonShapes;
  webhooks: readonly WebhookDestination[];
  offlineAfterMs: number;
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

/** Forwarding across receivers, as `GET /api/v1/destinations` shows it (null: one receiver on its store). */
export interface ClusterInfo {
  /** Receivers alive on the database, this one included. */
  receivers: number;
  /** This receiver's name among them. */
  holder: string;
  /** Delivery shards this receiver holds per destination (of DELIVERY_SHARDS). */
  shards: Record<string, number>;
  /** Differences with the other receivers' destinations, one line each; empty when they agree. */
  problems: string[];
}

/** How many event snapshots (the phone's state right after an event) are kept for building bodies. */
const SNAPSHOTS = 20_000;
/**
 * How many of the newest events are kept with their body, built once for every destination. Normally a
 * body is sent within milliseconds of its commit, so the store is not read back for it; older ones (a
 * destination that was down) are read from the store.
 */
const RECENT_BODIES = 5_000;
/** New rows in the store are looked for at most this often (ms); see wakeAll. */
const WAKE_EVERY_MS = 5;

/** Settings (the store's settings table) that keep a destination switched off (410 Gone) across restarts. */
export const disabledSetting = (name: string) => `forwarding.disabled.${name}`;
/**
 * Setting: every phone whose offline moment is at or before this time (epoch ms) has had its phone.offline
 * derived. Start-up derives those of the phones whose moment came later, while the receiver was stopped.
 */
export const OFFLINE_SWEPT_SETTING = 'forwarding.offline_swept_until';
/** How often the mark above is stored at most; a mark this stale only re-derives rows the dedupe key drops. */
const SWEPT_MARK_EVERY_MS = 5 * 60_000;

interface Destination {
  name: string;
  kind: 'webhook' | 'mqtt';
  target: string;
  /** Names the full address (a hash: URLs may hold secrets); a switch-off holds for this address only. */
  address: string;
  select: EventSelector;
  /** What the other receivers are told about it. */
  peer: PeerDestination;
  worker: OutboxWorker;
  /** What a new worker is made with (switching a destination on again starts a fresh one). */
  workerOptions: OutboxWorkerOptions;
  disabledReason: string | null;
  disabledAt: number | null;
  /** The switch-off or switch-on under way, if any: the next one waits for it. */
  switching: Promise<void>;
  connected(): boolean;
  close(): void;
}

export class Forwarder {
  private readonly destinations = new Map<string, Destination>();
  private readonly snapshots = new Map<number, PhoneState>();
  private readonly recent = new Map<number, { event: StoredEvent; body: string | undefined }>();
  private readonly now: () => number;
  private updates: DeliveryUpdate[] = [];
  private recordTimer: NodeJS.Timeout | undefined;
  private recording: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private readonly offlineAnnounced = new Map<string, number>();
  /** The offline mark as stored (OFFLINE_SWEPT_SETTING); undefined: never stored. */
  private sweptUntil: number | undefined;
  private sweptStoredAt = 0;
  private commits: { addDeliveries(rows: readonly NewDelivery[]): void; flush(): Promise<void> } | undefined;
  /** route() answers for the common case (every destination takes every incident of every phone). */
  private everyIncident: readonly string[] | undefined;
  private wantsConclusions = false;
  private closed = false;
  /** Deliveries with an outcome waiting to be stored, and how many. */
  private readonly unsaved = new Map<number, number>();
  /** Batches of outcomes stored so far, and when (in batches and ms) each delivery's last one was (see `wasUnsaved`). */
  private generation = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private lastWake = -Infinity;
  /** Storing outcomes failed last time (logged once until it works again). */
  private outcomesFailing = false;
  private readonly savedAt = new Map<number, { generation: number; at: number }>();
  private readonly keeper: LeaseKeeper | undefined;
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(private readonly o: ForwarderOptions) {
    this.now = o.now ?? Date.now;
    const leases = o.store.shared?.leases;
    if (leases) {
      this.keeper = new LeaseKeeper({
        leases,
        holder: this.holder,
        leaseMs: o.leaseMs ?? 15_000,
        destinations: () => [...this.destinations.values()].map((d) => ({ info: d.peer, worker: d.worker, enabled: d.disabledReason === null })),
        flush: () => this.flushUpdates(),
        now: this.now,
        logger: o.logger,
      });
    }
    for (const w of o.webhooks) {
      const sender = new WebhookSender(w, this.now);
      this.add({
        name: w.name,
        kind: 'webhook',
        target: redactUrl(w.url),
        address: addressHash(w.url),
        select: w.select,
        settings: JSON.stringify([w.url, w.secret?.text ?? null, w.timeoutMs]),
        schedule: o.schedule ?? STANDARD_SCHEDULE_MS,
        concurrency: o.concurrency ?? 8,
        send: (d) => sender.send(webhookId(d), d.body ?? ''),
        connected: () => true,
        close: () => sender.close(),
      });
    }
    if (o.mqtt) this.addChannel(o.mqtt).pause(); // until connected
  }

  /** Adds a channel such as the MQTT bridge; before `start`. */
  addChannel(channel: DeliveryChannel): OutboxWorker {
    return this.add({
      name: channel.name,
      kind: 'mqtt',
      target: channel.description,
      address: addressHash(channel.description),
      select: channel.select,
      settings: channel.description,
      schedule: channel.schedule,
      concurrency: channel.concurrency,
      neverDie: true,
      send: (d) => channel.send(d),
      connected: () => channel.connected(),
      close: () => {},
    });
  }

  get size(): number {
    return this.destinations.size;
  }

  private add(d: {
    name: string;
    kind: 'webhook' | 'mqtt';
    target: string;
    address: string;
    select: EventSelector;
    /** Everything else that decides where and how its deliveries go (compared across receivers, as a digest). */
    settings: string;
    schedule: readonly number[];
    concurrency: number;
    neverDie?: boolean;
    send(d: StoredDelivery): Promise<Attempt>;
    connected(): boolean;
    close(): void;
  }): OutboxWorker {
    const options: OutboxWorkerOptions = {
      destination: d.name,
      store: this.o.store,
      send: d.send,
      prepare: (rows) => this.prepare(rows),
      record: (update, row, attempt) => this.record(d.name, update, row, attempt),
      onGone: (reason) => void this.disable(d.name, reason),
      schedule: d.schedule,
      neverDie: d.neverDie,
      concurrency: d.concurrency,
      maxLoaded: this.o.maxLoaded ?? 5000,
      now: this.now,
      random: this.o.random ?? Math.random,
      onError: (err) => this.o.logger.error({ err, destination: d.name }, 'forwarding failed'),
      claimed: this.keeper !== undefined,
      mark: () => this.generation,
      unsaved: (id, mark) => this.wasUnsaved(id, mark),
    };
    const worker = new OutboxWorker(options);
    const peer = describeDestination(d.name, d.kind, d.target, d.select, d.settings);
    this.destinations.set(d.name, { ...d, peer, worker, workerOptions: options, disabledReason: null, disabledAt: null, switching: Promise.resolve() });
    this.refreshRouting();
    return worker;
  }

  private refreshRouting(): void {
    const enabled = [...this.destinations.values()].filter((d) => d.disabledReason === null);
    const plain = enabled.every((d) => d.select.allIncidents && !d.select.macs && !d.select.macPatterns);
    this.everyIncident = plain ? enabled.map((d) => d.name) : undefined;
    this.wantsConclusions = enabled.some((d) => d.select.allConclusions || d.select.types.size > 0);
  }

  /** The commit queue's outbox hooks (see OutboxHooks in server/commit-queue.ts). */
  readonly hooks = {
    route: (event: NewEvent): readonly string[] | undefined => {
      if (this.everyIncident) return this.everyIncident;
      const type = `phone.${event.incident}`;
      const out: string[] = [];
      for (const d of this.destinations.values()) {
        if (d.disabledReason === null && selects(d.select, type, event.mac)) out.push(d.name);
      }
      return out;
    },
    derive: (before: PhoneState | undefined, after: PhoneState, changedCalls: readonly CallState[], event: StoredEvent | undefined) => {
      if (this.destinations.size === 0) return undefined;
      if (event) {
        this.snapshots.set(event.id, after);
        if (this.snapshots.size > SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value!);
        this.recent.set(event.id, { event, body: undefined });
        if (this.recent.size > RECENT_BODIES) this.recent.delete(this.recent.keys().next().value!);
      }
      if (!this.wantsConclusions) return undefined;
      const found = deriveConclusions(before, after, changedCalls, event, this.o.offlineAfterMs, this.o.shapes, this.now());
      return found.length ? this.rowsFor(found) : undefined;
    },
    stored: () => this.wakeAll(),
  };

  private rowsFor(conclusions: readonly Conclusion[]): NewDelivery[] {
    const rows: NewDelivery[] = [];
    for (const c of conclusions) {
      const body = conclusionBody(c.type, c.at, c.data);
      for (const d of this.destinations.values()) {
        if (d.disabledReason !== null || !selects(d.select, c.type, c.mac)) continue;
        rows.push({ destination: d.name, type: c.type, mac: c.mac, eventId: c.eventId, createdAt: c.at, body, dedupeKey: `${c.mac}:${c.key}` });
      }
    }
    return rows;
  }

  /**
   * Reads what earlier runs left in the store's settings: destinations switched off by a 410 (their waiting
   * deliveries are made dead again, in case the run that switched them off stopped before it did), and the
   * offline mark. Before the commit queue replays events, so replayed conclusions skip switched-off ones.
   */
  async load(): Promise<void> {
    for (const d of this.destinations.values()) {
      const stored = await this.o.store.setting(disabledSetting(d.name));
      if (stored === undefined) continue;
      const off = parseSwitchOff(stored);
      if (off.address !== undefined && off.address !== d.address) {
        // The administrator gave the destination another URL since it answered 410: that is the fix.
        await this.o.store.putSetting(disabledSetting(d.name), null);
        this.o.logger.info({ destination: d.name }, 'destination switched on again: its URL changed since it answered 410 Gone');
        continue;
      }
      d.disabledReason = off.reason;
      d.disabledAt = off.at || null;
      await this.o.store.killDeliveries(d.name, off.reason, this.now());
      this.o.logger.warn({ destination: d.name, reason: off.reason, since: new Date(off.at).toISOString() }, 'destination still switched off (POST /api/v1/destinations/<name>/enable switches it on)');
    }
    this.refreshRouting();
    const mark = Number(await this.o.store.setting(OFFLINE_SWEPT_SETTING));
    this.sweptUntil = Number.isFinite(mark) && mark > 0 ? mark : undefined;
  }

  /**
   * Starts sending what the store holds; `commits` stores derived rows, `subscribe` tells of each commit (and
   * of phone states changed without an event) with the phone's new state.
   */
  start(
    commits: { addDeliveries(rows: readonly NewDelivery[]): void; flush(): Promise<void> },
    subscribe: (listener: (message: { phone: PhoneState }) => void) => void,
  ): void {
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
    // Phones whose offline moment passed before the offline mark had theirs derived by an earlier run; those
    // whose moment came while the receiver was stopped get it now, with the same dedupe key a sweep of the
    // earlier run would have used, so it is stored once however often the receiver restarts. Without a mark
    // (the first start with forwarding), phones silent long ago are not announced all at once.
    const now = this.now();
    for (const p of this.o.phones.all()) {
      const moment = p.lastSeen + this.o.offlineAfterMs;
      if (moment <= now && (this.sweptUntil === undefined || moment <= this.sweptUntil)) this.offlineAnnounced.set(p.mac, p.lastSeen);
    }
    this.every(this.o.sweepEveryMs ?? Math.min(30_000, Math.max(1000, this.o.offlineAfterMs / 10)), async () => {
      await this.sweepOffline();
      await mqtt?.sweepAvailability();
    });
    this.every(5_000, () => this.refreshDepth());
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

  /**
   * Phones silent for the offline threshold: phone.offline. Then, every few minutes, stores how far that is
   * done (once the rows are stored), so a restart knows which moments passed while it was stopped.
   */
  async sweepOffline(): Promise<void> {
    if (!this.commits) return;
    const now = this.now();
    const found = this.wantsConclusions ? offlineConclusions(this.o.phones.all(), now, this.o.offlineAfterMs, this.offlineAnnounced) : [];
    if (found.length) this.commits.addDeliveries(this.rowsFor(found));
    if (now - this.sweptStoredAt < SWEPT_MARK_EVERY_MS) return;
    this.sweptStoredAt = now;
    if (found.length) await this.commits.flush();
    await this.o.store.putSetting(OFFLINE_SWEPT_SETTING, String(now));
  }

  private async refreshDepth(): Promise<void> {
    const depth = await this.o.store.outboxDepth();
    for (const name of this.destinations.keys()) this.o.metrics.outboxDepth.set(depth[name] ?? 0, { destination: name });
  }

  /**
   * New rows may be in the store: each destination reads them. At most once per `wakeEveryMs`: a read of
   * the outbox costs about as much as a few deliveries, and at a thousand events a second one read per
   * commit was the largest cost of forwarding after sending itself; under heavier load commits batch anyway.
   */
  wakeAll(): void {
    if (this.wakeTimer) return;
    const wait = this.lastWake + (this.o.wakeEveryMs ?? WAKE_EVERY_MS) - performance.now();
    if (wait <= 0) {
      this.wakeNow();
      return;
    }
    this.wakeTimer = setTimeout(() => this.wakeNow(), wait);
    this.wakeTimer.unref();
  }

  private wakeNow(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.lastWake = performance.now();
    for (const d of this.destinations.values()) if (d.disabledReason === null) d.worker.wake();
  }

  /**
   * Makes the call log include every event committed so far (the composition root sets it to the commit
   * queue's state flush), so a call.ended can carry the call's id in it.
   */
  flushCalls: () => Promise<void> = async () => {};

  /** Bodies for rows that have none yet: the event and the phone's state right after it. */
  private async prepare(rows: StoredDelivery[]): Promise<void> {
    await this.addCallIds(rows);
    let need: StoredDelivery[] | undefined;
    for (const r of rows) {
      if (r.body !== null || r.eventId === null) continue;
      const cached = this.recent.get(r.eventId);
      if (cached) r.body = cached.body ??= incidentBody(cached.event, this.snapshots.get(r.eventId) ?? this.o.phones.get(r.mac), this.o.shapes);
      else (need ??= []).push(r);
    }
    if (!need) return;
    const events = new Map((await this.o.store.eventsByIds([...new Set(need.map((r) => r.eventId!))])).map((e) => [e.id, e]));
    for (const r of need) {
      const e = events.get(r.eventId!);
      if (!e) {
        r.body = conclusionBody(r.type, r.createdAt, { mac: r.mac, event_id: r.eventId, missing: 'the event was deleted (retention) before it was sent' });
        continue;
      }
      // Normally the state right after the event; after a restart long after the event, the phone's current state.
      r.body = incidentBody(e, this.snapshots.get(e.id) ?? this.o.phones.get(e.mac), this.o.shapes);
    }
  }

  /**
   * A call.ended is concluded before its call is in the call log, which numbers it: the `id` of
   * `GET /api/v1/calls` is added before the first attempt (then kept with the body, so every retry and
   * the MQTT message carry the same one).
   */
  private async addCallIds(rows: StoredDelivery[]): Promise<void> {
    const pending = rows.flatMap((r) => {
      if (r.type !== 'call.ended' || r.body === null) return [];
      const body = JSON.parse(r.body) as { data?: { id?: unknown; call_id?: string; started_at?: string } };
      return body.data && body.data.id === undefined ? [{ r, body, data: body.data }] : [];
    });
    if (pending.length === 0) return;
    await this.flushCalls();
    for (const { r, body, data } of pending) {
      const startedAt = Date.parse(data.started_at ?? '');
      if (!Number.isFinite(startedAt)) continue;
      const found = (await this.o.store.calls({ mac: r.mac, since: startedAt, until: startedAt + 1, limit: 50 })).find((c) => c.call.callId === data.call_id);
      // Not there (forgotten with its calls since): the call goes without an id rather than not at all.
      r.body = JSON.stringify({ ...body, data: { id: found?.id ?? null, ...data } });
    }
  }

  private record(destination: string, update: DeliveryUpdate, row: StoredDelivery, attempt: Attempt): void {
    const result = update.state === 'delivered' ? 'delivered' : attempt.verdict.kind === 'gone' ? 'gone' : update.state === 'dead' ? 'dead' : 'failed';
    this.o.metrics.deliveries.inc({ destination, result });
    if (update.state === 'delivered') this.o.metrics.deliverySeconds.observe(Math.max(0, this.now() - row.createdAt) / 1000);
    if (update.state !== 'delivered') {
      this.o.logger.warn({ destination, delivery: row.id, type: row.type, mac: row.mac, attempts: update.attempts, state: update.state, reason: update.lastError }, 'delivery attempt failed');
    }
    this.updates.push(update);
    this.unsaved.set(update.id, (this.unsaved.get(update.id) ?? 0) + 1);
    if (this.updates.length >= 500) this.flushUpdates();
    else if (!this.recordTimer) {
      this.recordTimer = setTimeout(() => this.flushUpdates(), this.o.recordEveryMs ?? 250);
      this.recordTimer.unref();
    }
  }

  /**
   * True when a delivery's outcome was still to be stored at `mark` (a read of the outbox started then may
   * have seen it as due) or still is.
   */
  private wasUnsaved(id: number, mark: number): boolean {
    if (this.unsaved.has(id)) return true;
    const saved = this.savedAt.get(id);
    return saved !== undefined && saved.generation > mark;
  }

  /** Stores the outcomes gathered so far; resolves once they (and earlier ones) are stored. */
  flushUpdates(): Promise<void> {
    if (this.recordTimer) clearTimeout(this.recordTimer);
    this.recordTimer = undefined;
    const batch = this.updates;
    this.updates = [];
    if (batch.length) {
      this.recording = this.recording
        .then(() => this.o.store.updateDeliveries(batch))
        .then(() => this.saved(batch), (err) => this.keepForLater(batch, err));
    }
    return this.recording;
  }

  /**
   * The store could not take outcomes (PostgreSQL away, a full disk): they are kept and stored again a
   * second later, so a delivery made meanwhile is not made again after a restart. One outcome per delivery
   * is kept (the newest: it carries the attempt count), so this stays as small as the deliveries in hand.
   */
  private keepForLater(batch: readonly DeliveryUpdate[], err: unknown): void {
    if (this.closed) {
      this.o.logger.error({ err, updates: batch.length }, 'storing delivery outcomes failed; those deliveries will be made again after a restart');
      this.saved(batch);
      return;
    }
    const latest = new Map<number, DeliveryUpdate>();
    for (const u of batch) latest.set(u.id, u);
    for (const u of this.updates) latest.set(u.id, u); // recorded since: newer
    this.updates = [...latest.values()];
    for (const id of latest.keys()) this.unsaved.set(id, 1);
    if (!this.outcomesFailing) this.o.logger.warn({ err, updates: this.updates.length }, 'storing delivery outcomes failed; trying again every second');
    this.outcomesFailing = true;
    if (!this.recordTimer) {
      this.recordTimer = setTimeout(() => this.flushUpdates(), 1000);
      this.recordTimer.unref();
    }
  }

  private saved(batch: readonly DeliveryUpdate[]): void {
    if (this.outcomesFailing && this.updates.length === 0) {
      this.outcomesFailing = false;
      this.o.logger.info('delivery outcomes stored again');
    }
    const generation = ++this.generation;
    const at = this.now();
    for (const u of batch) {
      const n = (this.unsaved.get(u.id) ?? 1) - 1;
      if (n > 0) this.unsaved.set(u.id, n);
      else this.unsaved.delete(u.id);
      this.savedAt.delete(u.id);
      this.savedAt.set(u.id, { generation, at });
    }
    // Oldest first (insertion order): a read of the outbox takes far less than a minute.
    for (const [id, s] of this.savedAt) {
      if (at - s.at < 60_000) break;
      this.savedAt.delete(id);
    }
  }


  /**
   * 410 Gone: the destination is switched off, also for later runs (until `enable`); its queued deliveries
   * are dead. Resolves when that is stored (a failure is logged, never thrown: a sender's answer calls this).
   */
  private disable(name: string, reason: string): Promise<void> {
    const d = this.destinations.get(name);
    if (!d || d.disabledReason !== null) return Promise.resolve();
    const at = this.now();
    d.disabledReason = reason;
    d.disabledAt = at;
    this.refreshRouting();
    this.o.logger.error({ destination: name, reason }, 'destination switched off');
    const done = d.switching.then(async () => {
      await this.o.store.putSetting(disabledSetting(name), JSON.stringify({ reason, at, address: d.address }));
      await d.worker.stop();
      d.worker.clear();
      await this.flushUpdates();
      await this.o.store.killDeliveries(name, reason, this.now());
    });
    d.switching = done.catch((err) => this.o.logger.error({ err, destination: name }, 'switching the destination off failed'));
    return d.switching;
  }

  /**
   * `POST /api/v1/destinations/<name>/enable`: a destination switched off by a 410 takes deliveries again
   * (from the next event on; dead ones stay dead until retried). False: no such destination.
   */
  async enable(name: string): Promise<boolean> {
    const d = this.destinations.get(name);
    if (!d) return false;
    await d.switching;
    if (d.disabledReason === null) return true;
    await this.o.store.putSetting(disabledSetting(name), null);
    d.worker = new OutboxWorker(d.workerOptions);
    d.disabledReason = null;
    d.disabledAt = null;
    this.refreshRouting();
    this.o.logger.info({ destination: name }, 'destination switched on again');
    if (this.commits) d.worker.wake();
    return true;
  }

  /** Forwarding across receivers; null with a store only this receiver uses. */
  clusterInfo(): ClusterInfo | null {
    if (!this.keeper) return null;
    const shards: Record<string, number> = {};
    for (const d of this.destinations.values()) shards[d.name] = d.worker.shardCount();
    return { receivers: this.keeper.receivers, holder: this.holder, shards, problems: this.keeper.problems };
  }

  destinationsInfo(): DestinationInfo[] {
    return [...this.destinations.values()].map((d) => ({
      name: d.name,
      kind: d.kind,
      target: d.target,
      enabled: d.disabledReason === null,
      disabledReason: d.disabledReason,
      disabledAt: d.disabledAt,
      connected: d.connected(),
      queued: d.worker.health.loaded,
      in_flight: d.worker.health.inFlight,
      last_success_at: d.worker.health.lastSuccessAt,
      last_failure_at: d.worker.health.lastFailureAt,
      last_error: d.worker.health.lastError,
    }));
  }

  /**
   * `POST /api/v1/deliveries/<id>/retry`: makes a delivery (dead, failed, or even delivered) pending and
   * sends it again, with the same webhook-id. Undefined: no such delivery.
   */
  async retry(id: number): Promise<StoredDelivery | undefined> {
    await this.flushUpdates();
    const row = await this.o.store.retryDelivery(id, this.now());
    if (!row) return undefined;
    const d = this.destinations.get(row.destination);
    if (d && d.disabledReason === null) d.worker.inject({ ...row });
    return row;
  }

  /** The body `row` sends: its own, or built again from its event (a delivered incident keeps none). */
  async bodyOf(row: StoredDelivery): Promise<string | null> {
    if (row.body !== null) return row.body;
    const copy = { ...row };
    await this.prepare([copy]);
    return copy.body;
  }

  /** The dashboard's "send a test event": a stored delivery like any other. False: no such destination. */
  async sendTest(name: string): Promise<boolean> {
    const d = this.destinations.get(name);
    if (!d || !this.commits) return false;
    const now = this.now();
    this.commits.addDeliveries([
      { destination: name, type: 'actionurl.test', mac: '', eventId: null, createdAt: now, body: testBody(name, now), dedupeKey: null },
    ]);
    await this.commits.flush();
    return true;
  }

  /** Resolves when every destination has nothing it could send right now (tests). */
  async idle(): Promise<void> {
    if (this.wakeTimer) this.wakeNow();
    await Promise.all([...this.destinations.values()].map((d) => d.worker.idle()));
    await this.flushUpdates();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.keeper?.stop();
    for (const t of this.timers) clearInterval(t);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    // Closing the senders first ends attempts in flight (a destination that never answers must not hold
    // up shutdown); their deliveries stay pending and go out after the next start.
    for (const d of this.destinations.values()) d.close();
    await Promise.all([...this.destinations.values()].map((d) => d.worker.stop()));
    await this.flushUpdates();
    // Outcomes stored: the other receivers may take this one's shards over at once.
    await this.keeper?.leave().catch((err) => this.o.logger.warn({ err }, 'giving back forwarding leases failed; other receivers take over when they run out'));
    await this.o.mqtt?.close();
  }
}

/**
 * A stored switch-off: `{"reason", "at", "address"}`; anything else (written by hand, say) still switches
 * off, whatever the address.
 */
function parseSwitchOff(stored: string): { reason: string; at: number; address?: string } {
  try {
    const v = JSON.parse(stored) as { reason?: unknown; at?: unknown; address?: unknown };
    if (typeof v.reason === 'string' && typeof v.at === 'number') {
      return { reason: v.reason, at: v.at, ...(typeof v.address === 'string' ? { address: v.address } : {}) };
    }
  } catch {
    // not JSON: fall through
  }
  return { reason: stored.slice(0, 200) || 'switched off', at: 0 };
}

function addressHash(url: string): string {
  return createHash('sha256').update(url).digest('base64url').slice(0, 22);
}

/** `https://user:secret@host/path?token=x` → without the password; query strings often hold tokens too. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.search) u.search = '?…';
    return u.toString();
  } catch {
    return url;
  }
}

export { MQTT_DESTINATION };
